import type { BreakerPolicy } from "./policy.js";
import type { Bucket } from "./time-buckets.js";

export const STATE_VERSION = 1;

export type Status = "closed" | "open" | "half-open" | "forced-open" | "disabled";

/** A call's ticket: whoever acquires one must record its outcome or cancel it. */
export interface Permit {
  id: string;
  breaker: string;
  /** The breaker's generation when issued; an outcome from an older generation changes nothing. */
  generation: number;
  probe: boolean;
  issuedAt: number;
  /** When a probe, or a call holding a concurrency slot, that never reports is taken for gone; null for calls that hold no slot. */
  expiresAt: number | null;
}

export interface Transition {
  at: number;
  from: Status;
  to: Status;
  reason: string;
}

export interface LastError {
  at: number;
  message: string;
  exitCode: number | null;
  /** What classified the outcome: a failure rule, `guarded: false`, `ignored_exit_codes`, the default. */
  rule: string | null;
}

/** Every admitted call ends exactly once as a success, failure, ignored, cancelled or expired probe. */
export interface Counters {
  admitted: number;
  successes: number;
  failures: number;
  ignored: number;
  cancelled: number;
  rejections: number;
  probes: number;
  expiredProbes: number;
  /** Reports that arrived after their probe had already been taken for dead. */
  lateReports: number;
  stateChanges: number;
  /** Calls refused because every concurrency slot was taken; not failures of the dependency. */
  limitRefusals: number;
  /** Concurrency slots freed at their deadline because their holder never reported. */
  expiredLeases: number;
  /** Calls admitted in observe mode that enforce mode would have refused. */
  wouldHaveRejected: number;
  /** Calls admitted after waiting for a concurrency slot, and their total wait. */
  queuedCalls: number;
  queueWaitMs: number;
  /** Calls refused because the rate limit's period was full; not failures of the dependency. */
  rateLimitRefusals: number;
  /** Retries the retry budget allowed, and those it refused. */
  retries: number;
  retryBudgetRefusals: number;
  /** Refused or failed calls whose caller ran the workflow's fallback instead. */
  fallbacks: number;
}

/** The whole persistent state of one breaker: a plain JSON value. */
export interface BreakerState {
  version: typeof STATE_VERSION;
  name: string;
  status: Status;
  generation: number;
  /** When the current status began. */
  since: number;
  /** Failures in a row while closed. */
  consecutiveFailures: number;
  /** Recent outcomes while closed, oldest first: true for a failure. */
  window: boolean[];
  /** Outcomes while closed in the time-based trip window (time-failure-rate, failures-in-time). */
  outcomeBuckets: Bucket<"calls" | "failures">[];
  /** Admitted calls in the rate limit's period. */
  admissionBuckets: Bucket<"calls">[];
  /** First attempts admitted and retries made in the retry budget's window. */
  retryBuckets: Bucket<"firsts" | "retries">[];
  /** The store clock of the latest operation; buckets move back with a clock that goes back. */
  clockAt: number;
  /** When an open breaker admits its first probe. */
  openUntil: number | null;
  /** Re-opens since the last close; grows the open time. */
  reopenCount: number;
  /** End of a manual trip; null while forced open indefinitely. */
  forcedUntil: number | null;
  probeSuccesses: number;
  probesInFlight: Permit[];
  /** Admitted calls holding a concurrency slot (max_concurrent_calls), probes included. */
  leases: Permit[];
  /** Ids of probes taken for dead whose report has not arrived, so a late report is not counted twice. */
  expiredPermits: string[];
  /** Ids of the latest permits recorded or cancelled, so a report sent twice counts once. */
  settledPermits: string[];
  lastError: LastError | null;
  /** The latest failure that was recorded as neutral (ignored), and the rule that said so. */
  lastIgnored: LastError | null;
  /** Where the current open time came from when the dependency asked for it (Retry-After); null: the policy. */
  openTimeSource: string | null;
  counters: Counters;
  history: Transition[];
  /** The policy of the last operation, so `status` can show thresholds without a config. */
  policy: BreakerPolicy | null;
  updatedAt: number;
}

export function emptyCounters(): Counters {
  return {
    admitted: 0,
    successes: 0,
    failures: 0,
    ignored: 0,
    cancelled: 0,
    rejections: 0,
    probes: 0,
    expiredProbes: 0,
    lateReports: 0,
    stateChanges: 0,
    limitRefusals: 0,
    expiredLeases: 0,
    wouldHaveRejected: 0,
    queuedCalls: 0,
    queueWaitMs: 0,
    rateLimitRefusals: 0,
    retries: 0,
    retryBudgetRefusals: 0,
    fallbacks: 0,
  };
}

export function initialState(name: string, now: number): BreakerState {
  return {
    version: STATE_VERSION,
    name,
    status: "closed",
    generation: 0,
    since: now,
    consecutiveFailures: 0,
    window: [],
    outcomeBuckets: [],
    admissionBuckets: [],
    retryBuckets: [],
    clockAt: now,
    openUntil: null,
    reopenCount: 0,
    forcedUntil: null,
    probeSuccesses: 0,
    probesInFlight: [],
    leases: [],
    expiredPermits: [],
    settledPermits: [],
    lastError: null,
    lastIgnored: null,
    openTimeSource: null,
    counters: emptyCounters(),
    history: [],
    policy: null,
    updatedAt: now,
  };
}
