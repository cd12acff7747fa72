/**
 * Layers of config settings (seconds, snake_case) merged and turned into the policies the runner
 * uses (milliseconds, camelCase).
 */
import type { BreakerPolicy, RetryBudget, TripPolicy } from "../core/policy.js";
import { DEFAULT_BREAKER_SETTINGS, DEFAULT_RETRY_BUDGET, DEFAULT_RETRY_SETTINGS } from "./defaults.js";
import type { BreakerSettings, RetryBudgetSettings, RetrySettings } from "./schema.js";

export type CompleteBreakerSettings = Required<BreakerSettings>;
export type CompleteRetrySettings = Required<RetrySettings>;

export interface RetryPolicy {
  /** Whole-workflow retries inside one breaker call. */
  maxRetries: number;
  /** The delay before retry n is backoffFactorMs * 2^(n-1). */
  backoffFactorMs: number;
  /** Fraction, 0..1, of random spread applied to each delay. */
  jitter: number;
}

/** Later layers win; a key that a layer leaves out (undefined) falls through to earlier ones. */
function merge<T extends object>(base: Required<T>, layers: readonly (T | undefined)[]): Required<T> {
  const merged: Required<T> = { ...base };
  for (const layer of layers) {
    if (layer === undefined) continue;
    for (const key of Object.keys(layer) as (keyof T)[]) {
      const value = layer[key];
      if (value !== undefined) merged[key] = value as Required<T>[keyof T];
    }
  }
  return merged;
}

/** Built-in defaults, then each layer in order (global section, then workflow section). */
export function mergeBreakerSettings(...layers: (BreakerSettings | undefined)[]): CompleteBreakerSettings {
  const base: CompleteBreakerSettings = {
    ...DEFAULT_BREAKER_SETTINGS,
    ignored_exit_codes: [...DEFAULT_BREAKER_SETTINGS.ignored_exit_codes],
  };
  return merge<BreakerSettings>(base, layers);
}

export function mergeRetrySettings(...layers: (RetrySettings | undefined)[]): CompleteRetrySettings {
  return merge<RetrySettings>({ ...DEFAULT_RETRY_SETTINGS }, layers);
}

const ms = (seconds: number): number => Math.round(seconds * 1000);

export function toBreakerPolicy(settings: CompleteBreakerSettings): BreakerPolicy {
  return {
    trip: toTripPolicy(settings),
    resetTimeoutMs: ms(settings.reset_timeout),
    resetTimeoutMultiplier: settings.reset_timeout_multiplier,
    maxResetTimeoutMs: ms(settings.max_reset_timeout),
    halfOpenTimeoutMs: ms(settings.half_open_timeout),
    halfOpenMaxProbes: settings.half_open_max_probes,
    successThreshold: settings.success_threshold,
    slowCallThresholdMs: settings.slow_call_threshold === null ? null : ms(settings.slow_call_threshold),
    ignoredExitCodes: [...settings.ignored_exit_codes],
    historySize: settings.history_size,
    maxConcurrentCalls: settings.max_concurrent_calls,
    mode: settings.mode,
    resetTimeoutJitter: settings.reset_timeout_jitter,
    rateLimit: settings.rate_limit === null ? null : { calls: settings.rate_limit.calls, periodMs: ms(settings.rate_limit.period_seconds) },
    retryBudget: settings.retry_budget === null ? null : toRetryBudget(settings.retry_budget),
  };
}

/**
 * The trip policy the keys describe. failure_count without window_seconds is refused by the
 * config checks before this runs; a window of 1 s stands in so the type holds.
 */
function toTripPolicy(settings: CompleteBreakerSettings): TripPolicy {
  const windowMs = settings.window_seconds === null ? null : ms(settings.window_seconds);
  switch (settings.trip_policy) {
    case "consecutive":
      return { kind: "consecutive", threshold: settings.failure_threshold };
    case "failure_rate":
      return windowMs === null
        ? { kind: "failure-rate", rate: settings.failure_rate_threshold, windowSize: settings.window_size, minimumCalls: settings.minimum_calls }
        : { kind: "time-failure-rate", rate: settings.failure_rate_threshold, windowMs, minimumCalls: settings.minimum_calls };
    case "failure_count":
      return { kind: "failures-in-time", threshold: settings.failure_threshold, windowMs: windowMs ?? 1000 };
  }
}

function toRetryBudget(settings: RetryBudgetSettings): RetryBudget {
  const full = { ...DEFAULT_RETRY_BUDGET, ...settings };
  return { ratio: full.ratio, minPerMinute: full.min_retries_per_minute, windowMs: ms(full.window_seconds) };
}

export function toRetryPolicy(settings: CompleteRetrySettings): RetryPolicy {
  return { maxRetries: settings.max_retries, backoffFactorMs: ms(settings.backoff_factor), jitter: settings.jitter };
}
