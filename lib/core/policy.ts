/** When a closed breaker opens. */
export type TripPolicy =
  | {
      /** Opens after `threshold` failures in a row; any success resets the run. */
      kind: "consecutive";
      threshold: number;
    }
  | {
      /** Opens when the failure rate over the last `windowSize` outcomes reaches `rate`. */
      kind: "failure-rate";
      /** Fraction of failures, in (0, 1]. */
      rate: number;
      windowSize: number;
      /** No decision before this many outcomes are in the window. */
      minimumCalls: number;
    }
  | {
      /** Opens when the failure rate over the last `windowMs` of outcomes reaches `rate` (kept in time buckets). */
      kind: "time-failure-rate";
      rate: number;
      windowMs: number;
      /** No decision before this many outcomes are in the window. */
      minimumCalls: number;
    }
  | {
      /** Opens after `threshold` failures within the last `windowMs`, whatever successes fall between them. */
      kind: "failures-in-time";
      threshold: number;
      windowMs: number;
    };

/** At most `calls` admitted calls in any `periodMs`, across every caller sharing the state. */
export interface RateLimit {
  calls: number;
  periodMs: number;
}

/**
 * Retries allowed within `windowMs`, across every caller sharing the state: `ratio` of the first
 * attempts admitted in the window, plus `minPerMinute` for each minute of the window.
 */
export interface RetryBudget {
  ratio: number;
  minPerMinute: number;
  windowMs: number;
}

/** Everything that decides how one breaker behaves. Times are milliseconds. */
export interface BreakerPolicy {
  trip: TripPolicy;
  /** How long the breaker stays open before it admits a probe. */
  resetTimeoutMs: number;
  /** Each re-open (a failed probe) multiplies the open time by this; 1 keeps it fixed. */
  resetTimeoutMultiplier: number;
  /** Upper bound of the grown open time. */
  maxResetTimeoutMs: number;
  /**
   * How long a half-open probe permit lives without reporting. A probe that has not
   * reported by then is taken for dead: its slot is freed and it counts as a failure.
   * A healthy probe that is only slow must finish within this time, so set it above the
   * workflow's longest expected run.
   */
  halfOpenTimeoutMs: number;
  /** Probes admitted at the same time while half-open. */
  halfOpenMaxProbes: number;
  /** Probe successes needed to close. */
  successThreshold: number;
  /** Calls slower than this count as failures even when they succeed; null disables. */
  slowCallThresholdMs: number | null;
  /** Exit codes of a failed run that do not count as failures (for example 75, "try later"). */
  ignoredExitCodes: number[];
  /** How many transitions the state keeps for `history`. */
  historySize: number;
  /**
   * Admitted calls at once across every caller sharing the state; null: no limit. Each admitted
   * call holds a slot as a lease until it reports, or until its deadline (expected duration plus
   * `halfOpenTimeoutMs`), so a killed runner's slot comes back.
   */
  maxConcurrentCalls: number | null;
  /** enforce: refuse as the state says; observe: admit everything and count what would have been refused. */
  mode: BreakerMode;
  /** Fraction, 0..1, of random spread applied to the policy's open time, so breakers opened together do not all probe at once. */
  resetTimeoutJitter: number;
  /** Admitted calls per period across the fleet; null: no limit. A call over it is refused without counting against the dependency. */
  rateLimit: RateLimit | null;
  /** Retries across the fleet, as a share of first attempts; null: retries are not limited. */
  retryBudget: RetryBudget | null;
}

export type BreakerMode = "enforce" | "observe";

export const DEFAULT_POLICY: BreakerPolicy = {
  trip: { kind: "consecutive", threshold: 5 },
  resetTimeoutMs: 60_000,
  resetTimeoutMultiplier: 1,
  maxResetTimeoutMs: 600_000,
  halfOpenTimeoutMs: 30_000,
  halfOpenMaxProbes: 1,
  successThreshold: 1,
  slowCallThresholdMs: null,
  ignoredExitCodes: [],
  historySize: 20,
  maxConcurrentCalls: null,
  mode: "enforce",
  resetTimeoutJitter: 0,
  rateLimit: null,
  retryBudget: null,
};

/**
 * The open time after `reopenCount` consecutive re-opens, capped, then spread by ±jitter.
 * `random` is a draw in [0, 1) made by the caller (0.5 spreads nothing), so the core stays pure.
 */
export function openDurationMs(policy: BreakerPolicy, reopenCount: number, random = 0.5): number {
  const grown = policy.resetTimeoutMs * policy.resetTimeoutMultiplier ** reopenCount;
  const capped = Math.min(grown, Math.max(policy.maxResetTimeoutMs, policy.resetTimeoutMs));
  return Math.max(0, Math.round(capped * (1 + policy.resetTimeoutJitter * (2 * random - 1))));
}

/** The failure threshold a person reads in `status`: a count or a rate. */
export function describeTrip(trip: TripPolicy): string {
  switch (trip.kind) {
    case "consecutive":
      return `${trip.threshold} consecutive failures`;
    case "failure-rate":
      return `${Math.round(trip.rate * 100)}% of the last ${trip.windowSize} calls (min ${trip.minimumCalls})`;
    case "time-failure-rate":
      return `${Math.round(trip.rate * 100)}% of the calls in the last ${seconds(trip.windowMs)} (min ${trip.minimumCalls})`;
    case "failures-in-time":
      return `${trip.threshold} failures within ${seconds(trip.windowMs)}`;
  }
}

/** The retries the budget allows in its window, given the first attempts admitted in it. */
export function retryAllowance(budget: RetryBudget, firstAttempts: number): number {
  return Math.floor(budget.ratio * firstAttempts + (budget.minPerMinute * budget.windowMs) / 60_000);
}

const seconds = (ms: number): string => `${Math.round(ms / 1000)} s`;
