/**
 * An optional expiry on breaker keys, so breakers nobody uses (per-key breakers of keys that
 * are gone) do not pile up in Redis. Every write refreshes it. A key that expires takes its
 * breaker's state with it, open or not: a TTL shorter than a breaker's open time would let an
 * open breaker vanish while open and the next call through to the failing service. So it must
 * be far above the longest open time (max_reset_timeout); a minute is the floor, days are sane.
 */
export const MIN_KEY_TTL_SECONDS = 60;

/** Why `seconds` is not a usable key TTL, said of the setting `name`; null when it is. */
export function keyTtlProblem(seconds: number, name: string): string | null {
  if (Number.isInteger(seconds) && seconds >= MIN_KEY_TTL_SECONDS) return null;
  return (
    `${name} must be a whole number of seconds >= ${MIN_KEY_TTL_SECONDS}, got ${seconds}. ` +
    "When a key expires its breaker's state is gone, so a TTL shorter than the open time would let an open " +
    "breaker vanish while open and send calls to the failing service again: set it far above the longest " +
    "open time (max_reset_timeout, 600 s by default), e.g. 2592000 (30 days)"
  );
}
