/** The first wait of a call queued for a concurrency slot, and the longest; the wait grows by half each poll. */
const FIRST_POLL_MS = 250;
const LONGEST_POLL_MS = 5_000;

/**
 * The wait before poll `n` (1-based) for a free concurrency slot: growing, capped, and spread
 * over its upper half so that queued runners do not poll the state in step.
 */
export function queuePollDelayMs(poll: number, random: () => number = Math.random): number {
  const ceiling = Math.min(LONGEST_POLL_MS, FIRST_POLL_MS * 1.5 ** (poll - 1));
  return Math.round(ceiling * (0.5 + 0.5 * random()));
}
