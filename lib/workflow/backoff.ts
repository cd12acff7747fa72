/** Retry timing for whole-workflow retries inside one breaker call. */
export interface BackoffPolicy {
  backoffFactorMs: number;
  /** Fraction of random spread, 0..1, so that runners retrying together drift apart. */
  jitter: number;
}

/** Delay before retry `n` (1-based): factor * 2^(n-1), spread by ±jitter. */
export function backoffDelayMs(policy: BackoffPolicy, retry: number, random: () => number = Math.random): number {
  const base = policy.backoffFactorMs * 2 ** (retry - 1);
  const spread = base * policy.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(base + spread));
}

/** A small deterministic generator for tests and benchmarks (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
