/**
 * What the store did, for benchmarks and for reasoning about contention: how often an
 * optimistic write lost to another writer and had to be redone.
 */
export interface RedisStoreStats {
  /** Requests answered, including those answered by the failure policy. */
  requests: number;
  /** Compare-and-set writes sent. */
  writes: number;
  /** Writes that found the breaker changed since it was read, and were redone. */
  conflicts: number;
  /** Requests that gave up because every attempt conflicted. */
  exhausted: number;
  /** Requests that could not reach Redis in time (thrown or, under fail-open, let through). */
  unavailable: number;
  /** Calls admitted, or reports dropped, without Redis under fail-open. */
  failedOpen: number;
  /** Tries redone while waiting for a primary (Sentinel or Cluster failover). */
  retried: number;
  /** Writes fewer replicas than minReplicas acknowledged in time, which failed their request. */
  underReplicated: number;
}

export function emptyStats(): RedisStoreStats {
  return { requests: 0, writes: 0, conflicts: 0, exhausted: 0, unavailable: 0, failedOpen: 0, retried: 0, underReplicated: 0 };
}
