import type { BreakerPolicy } from "../../lib/core/policy.js";
import { DEFAULT_POLICY } from "../../lib/core/policy.js";
import type { BreakerState } from "../../lib/core/state.js";

/**
 * Accounting of acknowledged writes across a failover. Racing writers each acquire a permit and
 * record a failure under it, and keep a ledger of which requests were acknowledged (returned
 * success) and which failed. The breaker holds every admitted permit as a concurrency lease
 * until its outcome is recorded, so the final state tells, per permit, whether its record
 * landed (its lease is gone) — and its failure counter must agree.
 */

/** Never trips, and keeps every admitted permit as a lease that does not expire during a test. */
export const LEDGER_POLICY: BreakerPolicy = {
  ...DEFAULT_POLICY,
  trip: { kind: "consecutive", threshold: 1_000_000_000 },
  maxConcurrentCalls: 1_000_000,
  halfOpenTimeoutMs: 3_600_000,
};

export interface Ledger {
  /** Permits whose acquire returned success; each then got a record. */
  acquired: string[];
  /** Acquires that failed: their permit may or may not be in the state. */
  acquireFailed: number;
  /** Permits whose record returned success. */
  recorded: string[];
  /** Permits whose record failed: the outcome may or may not be in the state. */
  recordFailed: string[];
  /** When (ms since the epoch) each acknowledged record returned, in order. */
  recordedAt: number[];
  /** The message of every failed request, as the caller saw it. */
  errors: { name: string; message: string }[];
  /** The longest any one request took, failed or not, in ms. */
  longestMs: number;
}

export function emptyLedger(): Ledger {
  return { acquired: [], acquireFailed: 0, recorded: [], recordFailed: [], recordedAt: [], errors: [], longestMs: 0 };
}

export interface Accounting {
  acknowledgedAcquires: number;
  acknowledgedRecords: number;
  failedRequests: number;
  /**
   * Acknowledged records whose outcome is not in the final state: their permit still holds its
   * lease, or the failure counter lacks them (the acquire went too).
   */
  lostOutcomes: number;
  /** Acknowledged acquires missing from the `admitted` counter (a lower bound). */
  lostAdmissions: number;
  /** Outcomes counted more often than records landed; must always be 0. */
  countedTwice: number;
  /** Admissions counted beyond every acquire sent; must always be 0. */
  admittedTwice: number;
  /** Every acknowledged write lost: outcomes and admissions. */
  lostAcknowledged: number;
}

export function account(ledgers: Ledger[], state: BreakerState): Accounting {
  const leases = new Set(state.leases.map((l) => l.id));
  const recorded = ledgers.flatMap((l) => l.recorded);
  const recordFailed = ledgers.flatMap((l) => l.recordFailed);
  const acquired = ledgers.reduce((n, l) => n + l.acquired.length, 0);
  const acquireFailed = ledgers.reduce((n, l) => n + l.acquireFailed, 0);
  const lostRecords = recorded.filter((id) => leases.has(id)).length;
  // Records that landed, if every acknowledged acquire is in the state: those whose lease is gone.
  const landed = [...recorded, ...recordFailed].filter((id) => !leases.has(id)).length;
  const failures = state.counters.failures;
  const countedTwice = Math.max(0, failures - landed);
  const lostOther = Math.max(0, landed - failures);
  // The counter may also hold acquires whose answer was lost: the bound is loose upwards only.
  const lostAdmissions = Math.max(0, acquired - state.counters.admitted);
  return {
    acknowledgedAcquires: acquired,
    acknowledgedRecords: recorded.length,
    failedRequests: ledgers.reduce((n, l) => n + l.errors.length, 0),
    lostOutcomes: lostRecords + lostOther,
    lostAdmissions,
    countedTwice,
    admittedTwice: Math.max(0, state.counters.admitted - acquired - acquireFailed),
    lostAcknowledged: lostRecords + lostOther + lostAdmissions,
  };
}
