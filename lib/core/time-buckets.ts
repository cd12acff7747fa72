/**
 * Counts over the last `windowMs` of the store's clock, aggregated into buckets so that state
 * stays bounded whatever the call rate: at most BUCKETS_PER_WINDOW + 2 buckets per window. Used
 * by the time-based trip windows, the rate limit and the retry budget.
 *
 * Granularity: a bucket spans `bucketWidthMs(windowMs)`. A count stays in the window for at
 * least `windowMs` and less than `windowMs` plus one bucket width after it was made; it leaves
 * with its whole bucket.
 */

/** One bucket: when it started (store clock) and its counts. */
export type Bucket<K extends string> = { start: number } & Record<K, number>;

export const BUCKETS_PER_WINDOW = 60;

/** One sixtieth of the window, in whole seconds, at least one second. */
export function bucketWidthMs(windowMs: number): number {
  return Math.max(1000, Math.ceil(windowMs / BUCKETS_PER_WINDOW / 1000) * 1000);
}

/**
 * Moves every bucket back by how far the clock went back since the state was last written
 * (`clockAt`), so a clock that goes backwards makes no count younger and none older.
 * Mutates the buckets given.
 */
export function shiftForClock<K extends string>(buckets: Bucket<K>[], clockAt: number, now: number): void {
  if (now >= clockAt) return;
  const by = now - clockAt;
  for (const bucket of buckets) bucket.start += by;
}

/** Buckets that started after this are still in the window at `now`: some of their counts are younger than `windowMs`. */
function windowOpensAfter(windowMs: number, now: number): number {
  return now - windowMs - bucketWidthMs(windowMs);
}

/** The buckets still inside the window at `now`, oldest first. */
export function inWindow<K extends string>(buckets: Bucket<K>[], windowMs: number, now: number): Bucket<K>[] {
  const after = windowOpensAfter(windowMs, now);
  return buckets.filter((b) => b.start > after);
}

/** Adds to the newest bucket, or starts one at `now` once the newest is a full width old; drops buckets that left the window. */
export function addCounts<K extends string>(
  buckets: Bucket<K>[],
  windowMs: number,
  now: number,
  add: Record<K, number>,
): Bucket<K>[] {
  const kept = inWindow(buckets, windowMs, now);
  const newest = kept.at(-1);
  if (newest !== undefined && now < newest.start + bucketWidthMs(windowMs)) {
    const counts: Record<K, number> = newest;
    for (const key of Object.keys(add) as K[]) counts[key] += add[key];
    return kept;
  }
  kept.push({ start: now, ...add } as Bucket<K>);
  return kept;
}

/** The sum of one count over the buckets in the window. */
export function total<K extends string>(buckets: Bucket<K>[], windowMs: number, now: number, key: K): number {
  const after = windowOpensAfter(windowMs, now);
  let sum = 0;
  for (const bucket of buckets) if (bucket.start > after) sum += bucket[key];
  return sum;
}

/**
 * The earliest time at which the window's total of `key` is below `limit` again, counting only
 * the expiry of the buckets there now; `now` when it already is.
 */
export function belowAt<K extends string>(buckets: Bucket<K>[], windowMs: number, now: number, key: K, limit: number): number {
  const width = bucketWidthMs(windowMs);
  const live = inWindow(buckets, windowMs, now);
  let sum = live.reduce((s, b) => s + b[key], 0);
  if (sum < limit) return now;
  for (const bucket of live) {
    sum -= bucket[key];
    if (sum < limit) return bucket.start + width + windowMs;
  }
  return now;
}
