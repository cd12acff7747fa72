import { retryAllowance, type RateLimit, type RetryBudget } from "./policy.js";
import type { BreakerState } from "./state.js";
import { belowAt, total } from "./time-buckets.js";

/**
 * What the time-bucketed lists hold at `now`, as the transitions decide on it and `status`
 * shows it: one reading, so the decision and the report cannot drift apart.
 */

/** Outcomes and failures in a time-based trip window. */
export function windowCounts(state: BreakerState, windowMs: number, now: number): { calls: number; failures: number } {
  return { calls: total(state.outcomeBuckets, windowMs, now, "calls"), failures: total(state.outcomeBuckets, windowMs, now, "failures") };
}

/** Calls admitted in the rate limit's period, and when the period next has room. */
export function rateLimitUse(state: BreakerState, limit: RateLimit, now: number): { used: number; nextSlotAt: number } {
  return {
    used: total(state.admissionBuckets, limit.periodMs, now, "calls"),
    nextSlotAt: belowAt(state.admissionBuckets, limit.periodMs, now, "calls", limit.calls),
  };
}

/** Retries made in the budget's window, the first attempts there, and the retries they allow. */
export function retryBudgetUse(state: BreakerState, budget: RetryBudget, now: number): { used: number; firstAttempts: number; allowance: number } {
  const firstAttempts = total(state.retryBuckets, budget.windowMs, now, "firsts");
  return { used: total(state.retryBuckets, budget.windowMs, now, "retries"), firstAttempts, allowance: retryAllowance(budget, firstAttempts) };
}
