/**
 * The pause before retrying a write that lost a compare-and-set. The first retry goes at once,
 * with the state the failed write already brought back: two writers colliding is the common
 * case and one of them has just won. Later retries mean a crowd, which retrying in lockstep
 * would only repeat, so they wait a random time ("full jitter") that grows with each attempt
 * and then read afresh.
 */
export function retryDelayMs(conflicts: number, random: () => number = Math.random): number {
  if (conflicts <= 1) return 0;
  const ceiling = Math.min(50, 2 ** Math.min(conflicts, 6));
  return random() * ceiling;
}
