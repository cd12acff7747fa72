/**
 * Built-in settings, in the config file's own units (seconds, snake_case), used when neither a
 * call argument, the workflow nor the global section sets a key.
 */
import { DEFAULT_POLICY } from "../core/policy.js";

const seconds = (ms: number): number => ms / 1000;

/** Every breaker key with its built-in value; the breaker core's DEFAULT_POLICY is the source of truth. */
export const DEFAULT_BREAKER_SETTINGS = {
  failure_threshold: DEFAULT_POLICY.trip.kind === "consecutive" ? DEFAULT_POLICY.trip.threshold : 5,
  reset_timeout: seconds(DEFAULT_POLICY.resetTimeoutMs),
  half_open_timeout: seconds(DEFAULT_POLICY.halfOpenTimeoutMs),
  half_open_max_probes: DEFAULT_POLICY.halfOpenMaxProbes,
  success_threshold: DEFAULT_POLICY.successThreshold,
  trip_policy: DEFAULT_POLICY.trip.kind === "consecutive" ? "consecutive" : "failure_rate",
  failure_rate_threshold: DEFAULT_POLICY.trip.kind === "failure-rate" ? DEFAULT_POLICY.trip.rate : 0.5,
  window_size: DEFAULT_POLICY.trip.kind === "failure-rate" ? DEFAULT_POLICY.trip.windowSize : 20,
  minimum_calls: DEFAULT_POLICY.trip.kind === "failure-rate" ? DEFAULT_POLICY.trip.minimumCalls : 10,
  reset_timeout_multiplier: DEFAULT_POLICY.resetTimeoutMultiplier,
  max_reset_timeout: seconds(DEFAULT_POLICY.maxResetTimeoutMs),
  slow_call_threshold:
    DEFAULT_POLICY.slowCallThresholdMs === null ? null : seconds(DEFAULT_POLICY.slowCallThresholdMs),
  ignored_exit_codes: [...DEFAULT_POLICY.ignoredExitCodes],
  history_size: DEFAULT_POLICY.historySize,
  max_concurrent_calls: DEFAULT_POLICY.maxConcurrentCalls,
  queue_timeout: 0,
  mode: DEFAULT_POLICY.mode,
  reset_timeout_jitter: DEFAULT_POLICY.resetTimeoutJitter,
  window_seconds: null,
  rate_limit: null,
  retry_budget: null,
} as const satisfies Record<string, unknown>;

/** A retry budget's keys left out of a `retry_budget:` section. */
export const DEFAULT_RETRY_BUDGET = { ratio: 0.2, min_retries_per_minute: 10, window_seconds: 60 } as const;

export const DEFAULT_RETRY_SETTINGS = {
  max_retries: 0,
  backoff_factor: 1,
  jitter: 0.1,
} as const;

export const DEFAULT_USE_CIRCUIT_BREAKER = true;
/** Off so that every step really runs instead of being answered from Dagger's layer cache. */
export const DEFAULT_CACHING = false;
/** A probe is meant to be cheap; one that hangs must not hold the half-open slot for long. */
export const DEFAULT_PROBE_TIMEOUT_SECONDS = 30;
