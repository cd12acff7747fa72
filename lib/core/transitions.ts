import { classify, type CallOutcome, type RequestedWait } from "./outcome.js";
import { describeTrip, openDurationMs, type BreakerPolicy } from "./policy.js";
import { copyState as clone } from "./copy-state.js";
import type { BreakerState, Permit, Status } from "./state.js";
import { addCounts, shiftForClock } from "./time-buckets.js";
import { rateLimitUse, retryBudgetUse, windowCounts } from "./window-use.js";

/**
 * The breaker's state machine. Every function is pure: it takes a state, the policy and the
 * current time, and returns a new state (the input is never mutated) plus what happened.
 */

export interface Refusal {
  /** Why the call was refused, said of the breaker: "is open". */
  reason: string;
  /** When a call may next be admitted; null when only a person can reopen it (forced open). */
  retryAt: number | null;
  /** Set when the refusal is for a full concurrency limit, which says nothing of the dependency's health. */
  limit?: { inUse: number; max: number };
  /** Set when the refusal is for a full rate-limit period, which says nothing of the dependency's health either. */
  rateLimit?: { used: number; max: number; periodMs: number };
}

export type Decision =
  | {
      admitted: true;
      permit: Permit;
      /** Observe mode: the refusal enforce mode would have made. */
      wouldHaveRejected?: Refusal;
    }
  | ({ admitted: false } & Refusal);

export interface AcquireOptions {
  /**
   * The longest the caller expects its call to run. A probe's slot, and a concurrency slot, is
   * held for this long plus `halfOpenTimeoutMs` before its holder is taken for gone, so a slow
   * but healthy call keeps it.
   */
  expectedDurationMs?: number;
  /** How long the caller waited for a concurrency slot before this admission, for the counters. */
  waitedMs?: number;
  /** A draw in [0, 1) for the open-time jitter, should this request open the breaker (0.5: none). */
  random?: number;
  /** The caller runs a fallback if refused: a refusal then counts as a fallback too. */
  fallback?: boolean;
}

/**
 * What a report did: counted; ignored (neutral: frees a probe slot, opens and closes nothing);
 * stale (from an older generation: counters only); late (its probe was already taken for
 * dead); duplicate (this permit was already recorded or cancelled: nothing changed).
 */
export type RecordEffect = "counted" | "ignored" | "stale" | "late" | "duplicate";

/** Expired probes whose late report is still recognised as late rather than counted again. */
const MAX_EXPIRED_REMEMBERED = 32;

/** Settled permits remembered, so a report retried after a lost reply is not counted again. */
const MAX_SETTLED_REMEMBERED = 32;

/**
 * Remembers that the permit has been recorded or cancelled, so a second report of it changes
 * nothing, and frees its concurrency slot whatever the report turns out to be (late, stale...).
 */
function settle(state: BreakerState, permit: Permit): void {
  const lease = state.leases.findIndex((l) => l.id === permit.id);
  if (lease !== -1) state.leases.splice(lease, 1);
  state.settledPermits.push(permit.id);
  state.settledPermits.splice(0, Math.max(0, state.settledPermits.length - MAX_SETTLED_REMEMBERED));
}

/** True, and forgets it, when the permit's probe was already taken for dead. */
function takeExpired(state: BreakerState, permit: Permit): boolean {
  const at = state.expiredPermits.indexOf(permit.id);
  if (at === -1) return false;
  state.expiredPermits.splice(at, 1);
  return true;
}

function move(state: BreakerState, to: Status, now: number, reason: string, policy: BreakerPolicy): void {
  const from = state.status;
  state.history.push({ at: now, from, to, reason });
  if (state.history.length > policy.historySize) {
    state.history.splice(0, state.history.length - policy.historySize);
  }
  state.status = to;
  state.since = now;
  state.generation += 1;
  state.counters.stateChanges += 1;
  state.probesInFlight = [];
  state.probeSuccesses = 0;
  if (to !== "open") {
    state.openUntil = null;
    state.openTimeSource = null;
  }
  if (to !== "forced-open") state.forcedUntil = null;
  // Counts survive an open so `status` can show what tripped it; a close starts them afresh.
  if (to === "closed" || to === "disabled") {
    state.reopenCount = 0;
    state.consecutiveFailures = 0;
    state.window = [];
    state.outcomeBuckets = [];
  }
}

/** Opens for the policy's open time (jittered), or for the wait the dependency asked for, capped at the longest open time. */
function open(
  state: BreakerState,
  now: number,
  reason: string,
  policy: BreakerPolicy,
  reopen: boolean,
  random: number,
  requested?: RequestedWait,
): void {
  const reopenCount = reopen ? state.reopenCount + 1 : 0;
  move(state, "open", now, reason, policy);
  state.reopenCount = reopenCount;
  if (requested === undefined) {
    state.openUntil = now + openDurationMs(policy, reopenCount, random);
    return;
  }
  const cap = Math.max(policy.maxResetTimeoutMs, policy.resetTimeoutMs);
  const wait = Math.min(Math.max(0, Math.round(requested.ms)), cap);
  state.openUntil = now + wait;
  state.openTimeSource =
    wait < requested.ms ? `${requested.source}, capped at max_reset_timeout (${Math.round(cap / 1000)} s)` : requested.source;
}

/**
 * Applies what the passage of time does: an open breaker's wait ends, a timed manual trip ends,
 * and probes that have not reported by their deadline are taken for dead (one failure, which
 * re-opens, counted from the deadline so that noticing late adds no wait). A clock that went
 * backwards is not allowed to stretch a wait or a probe's deadline past its full length.
 */
export function advance(input: BreakerState, policy: BreakerPolicy, now: number, random = 0.5): BreakerState {
  const state = clone(input);
  shiftForClock(state.outcomeBuckets, state.clockAt, now);
  shiftForClock(state.admissionBuckets, state.clockAt, now);
  shiftForClock(state.retryBuckets, state.clockAt, now);
  state.clockAt = now;
  if (now < state.since) {
    if (state.openUntil !== null) state.openUntil = Math.min(state.openUntil, now + (state.openUntil - state.since));
    if (state.forcedUntil !== null && state.forcedUntil - state.since > 0) {
      state.forcedUntil = Math.min(state.forcedUntil, now + (state.forcedUntil - state.since));
    }
    state.since = now;
  }
  for (const permit of state.probesInFlight) clampToClock(permit, now);
  for (const lease of state.leases) clampToClock(lease, now);
  if (state.leases.length > 0) {
    const held = state.leases.length;
    state.leases = state.leases.filter((l) => l.expiresAt === null || now < l.expiresAt);
    state.counters.expiredLeases += held - state.leases.length;
  }
  endWaits(state, policy, now);
  if (state.status === "half-open") {
    const dead = state.probesInFlight.filter((p) => p.expiresAt !== null && now >= p.expiresAt);
    if (dead.length > 0) {
      const deadline = Math.min(...dead.map((p) => p.expiresAt ?? now));
      state.counters.expiredProbes += dead.length;
      state.expiredPermits.push(...dead.map((p) => p.id));
      state.expiredPermits.splice(0, Math.max(0, state.expiredPermits.length - MAX_EXPIRED_REMEMBERED));
      const ids = dead.map((p) => p.id).join(", ");
      state.lastError = { at: deadline, message: `probe ${ids} did not report by its deadline`, exitCode: null, rule: "half_open_timeout" };
      open(state, deadline, `probe ${ids} did not report by its deadline`, policy, true, random);
      endWaits(state, policy, now);
    }
  }
  return state;
}

/** A permit issued "after" a clock that went backwards keeps its full length from now, no more. */
function clampToClock(permit: Permit, now: number): void {
  if (permit.expiresAt !== null && now < permit.issuedAt) {
    permit.expiresAt = Math.min(permit.expiresAt, now + (permit.expiresAt - permit.issuedAt));
    permit.issuedAt = now;
  }
}

function endWaits(state: BreakerState, policy: BreakerPolicy, now: number): void {
  if (state.status === "open" && state.openUntil !== null && now >= state.openUntil) {
    move(state, "half-open", now, "open time elapsed; admitting probes", policy);
  }
  if (state.status === "forced-open" && state.forcedUntil !== null && now >= state.forcedUntil) {
    move(state, "half-open", now, "manual trip expired; admitting probes", policy);
  }
}

/** The refusal the breaker's status makes, or null when it admits (as a probe, when half-open). */
function statusRefusal(state: BreakerState, policy: BreakerPolicy): Refusal | null {
  switch (state.status) {
    case "closed":
    case "disabled":
      return null;
    case "open":
      return { reason: "is open", retryAt: state.openUntil };
    case "forced-open":
      return { reason: "was tripped by hand (forced open)", retryAt: state.forcedUntil };
    case "half-open": {
      if (state.probesInFlight.length < policy.halfOpenMaxProbes) return null;
      const next = Math.min(...state.probesInFlight.map((p) => p.expiresAt ?? Infinity));
      return {
        reason: `is half-open and its ${policy.halfOpenMaxProbes} probe slot(s) are taken`,
        retryAt: Number.isFinite(next) ? next : null,
      };
    }
  }
}

/** The refusal a full concurrency limit makes, or null when a slot is free (or there is no limit). */
function limitRefusal(state: BreakerState, policy: BreakerPolicy): Refusal | null {
  const max = policy.maxConcurrentCalls;
  if (max === null || state.leases.length < max) return null;
  const next = Math.min(...state.leases.map((l) => l.expiresAt ?? Infinity));
  return {
    reason: `has all ${max} concurrency slot(s) taken (max_concurrent_calls)`,
    retryAt: Number.isFinite(next) ? next : null,
    limit: { inUse: state.leases.length, max },
  };
}

/** The refusal a full rate-limit period makes, or null when the period has room (or there is no limit). */
function rateRefusal(state: BreakerState, policy: BreakerPolicy, now: number): Refusal | null {
  const limit = policy.rateLimit;
  if (limit === null) return null;
  const { used, nextSlotAt } = rateLimitUse(state, limit, now);
  if (used < limit.calls) return null;
  return {
    reason: `has admitted its ${limit.calls} call(s) per ${Math.round(limit.periodMs / 1000)} s (rate_limit)`,
    retryAt: nextSlotAt,
    rateLimit: { used, max: limit.calls, periodMs: limit.periodMs },
  };
}

/**
 * Asks to run one call. The breaker's status decides first, then the concurrency limit, then the
 * rate limit; a call refused for a limit counts as a limit refusal, never as a failure or a breaker rejection.
 * In observe mode nothing is refused: the call is admitted (as an ordinary call, holding no
 * probe slot and no concurrency slot it did not get) and counted as would-have-rejected.
 */
export function acquire(
  input: BreakerState,
  policy: BreakerPolicy,
  now: number,
  permitId: string,
  options: AcquireOptions = {},
): { state: BreakerState; decision: Decision } {
  const state = advance(input, policy, now, options.random);
  state.policy = policy;
  state.updatedAt = now;
  const observing = policy.mode === "observe";
  const byStatus = statusRefusal(state, policy);
  const refuse = (refusal: Refusal, counter: "rejections" | "limitRefusals" | "rateLimitRefusals") => {
    state.counters[counter] += 1;
    if (options.fallback === true) state.counters.fallbacks += 1;
    return { state, decision: { admitted: false as const, ...refusal } };
  };
  if (byStatus !== null && !observing) return refuse(byStatus, "rejections");
  const byLimit = limitRefusal(state, policy);
  if (byLimit !== null && !observing) return refuse(byLimit, "limitRefusals");
  const byRate = rateRefusal(state, policy, now);
  if (byRate !== null && !observing) return refuse(byRate, "rateLimitRefusals");
  const probe = byStatus === null && state.status === "half-open";
  const leased = policy.maxConcurrentCalls !== null && byLimit === null;
  const expected = Math.max(0, options.expectedDurationMs ?? 0);
  const permit: Permit = {
    id: permitId,
    breaker: state.name,
    generation: state.generation,
    issuedAt: now,
    probe,
    expiresAt: probe || leased ? now + expected + policy.halfOpenTimeoutMs : null,
  };
  if (probe) {
    state.probesInFlight.push(permit);
    state.counters.probes += 1;
  }
  if (leased) state.leases.push({ ...permit });
  state.counters.admitted += 1;
  if (policy.rateLimit !== null) state.admissionBuckets = addCounts(state.admissionBuckets, policy.rateLimit.periodMs, now, { calls: 1 });
  if (policy.retryBudget !== null) {
    state.retryBuckets = addCounts(state.retryBuckets, policy.retryBudget.windowMs, now, { firsts: 1, retries: 0 });
  }
  if ((options.waitedMs ?? 0) > 0) {
    state.counters.queuedCalls += 1;
    state.counters.queueWaitMs += Math.round(options.waitedMs ?? 0);
  }
  const wouldHaveRejected = byStatus ?? byLimit ?? byRate;
  if (wouldHaveRejected === null) return { state, decision: { admitted: true, permit } };
  state.counters.wouldHaveRejected += 1;
  return { state, decision: { admitted: true, permit, wouldHaveRejected } };
}

function tripReason(state: BreakerState, policy: BreakerPolicy, now: number): string | null {
  const trip = policy.trip;
  switch (trip.kind) {
    case "consecutive":
      return state.consecutiveFailures >= trip.threshold ? `${describeTrip(trip)} reached` : null;
    case "failure-rate": {
      if (state.window.length < trip.minimumCalls) return null;
      const failures = state.window.filter(Boolean).length;
      const rate = failures / state.window.length;
      return rate >= trip.rate
        ? `failure rate ${Math.round(rate * 100)}% over the last ${state.window.length} calls reached ${Math.round(trip.rate * 100)}%`
        : null;
    }
    case "time-failure-rate": {
      const { calls, failures } = windowCounts(state, trip.windowMs, now);
      if (calls < trip.minimumCalls) return null;
      const rate = failures / calls;
      return rate >= trip.rate
        ? `failure rate ${Math.round(rate * 100)}% over the ${calls} calls of the last ${Math.round(trip.windowMs / 1000)} s reached ${Math.round(trip.rate * 100)}%`
        : null;
    }
    case "failures-in-time": {
      const { failures } = windowCounts(state, trip.windowMs, now);
      return failures >= trip.threshold ? `${failures} failures within ${Math.round(trip.windowMs / 1000)} s reached ${trip.threshold}` : null;
    }
  }
}

/** Counts a closed breaker's outcome in the trip window its policy uses. */
function countInWindow(state: BreakerState, policy: BreakerPolicy, now: number, failed: boolean): void {
  const trip = policy.trip;
  if (trip.kind === "failure-rate") {
    state.window.push(failed);
    if (state.window.length > trip.windowSize) state.window.splice(0, state.window.length - trip.windowSize);
  } else if (trip.kind === "time-failure-rate" || trip.kind === "failures-in-time") {
    state.outcomeBuckets = addCounts(state.outcomeBuckets, trip.windowMs, now, { calls: 1, failures: failed ? 1 : 0 });
  }
}

/** Reports how an admitted call ended. */
export function record(
  input: BreakerState,
  policy: BreakerPolicy,
  now: number,
  permit: Permit,
  outcome: CallOutcome,
  random = 0.5,
  /** The caller runs a fallback when this outcome is a failure: it then counts as a fallback too. */
  fallback = false,
): { state: BreakerState; effect: RecordEffect } {
  const state = advance(input, policy, now, random);
  if (state.settledPermits.includes(permit.id)) return { state, effect: "duplicate" };
  settle(state, permit);
  state.updatedAt = now;
  if (takeExpired(state, permit)) {
    state.counters.lateReports += 1;
    return { state, effect: "late" };
  }
  state.policy = policy;
  const verdict = classify(outcome, policy);
  if (fallback && !outcome.ok) state.counters.fallbacks += 1;
  const slot = state.probesInFlight.findIndex((p) => p.id === permit.id);

  if (verdict.kind === "ignored") {
    state.counters.ignored += 1;
    state.lastIgnored = { at: now, message: verdict.reason, exitCode: outcome.exitCode ?? null, rule: verdict.rule };
    if (slot !== -1) state.probesInFlight.splice(slot, 1);
    return { state, effect: "ignored" };
  }
  if (verdict.kind === "success") state.counters.successes += 1;
  else {
    state.counters.failures += 1;
    state.lastError = { at: now, message: verdict.reason, exitCode: outcome.exitCode ?? null, rule: verdict.rule };
  }

  const current = permit.generation === state.generation;
  if (!current) return { state, effect: "stale" };

  if (state.status === "half-open" && slot !== -1) {
    state.probesInFlight.splice(slot, 1);
    if (verdict.kind === "failure") {
      open(state, now, `probe failed: ${verdict.reason}`, policy, true, random, outcome.retryAfter);
    } else {
      state.probeSuccesses += 1;
      if (state.probeSuccesses >= policy.successThreshold) {
        move(state, "closed", now, `${state.probeSuccesses} probe(s) succeeded`, policy);
      }
    }
    return { state, effect: "counted" };
  }

  if (state.status === "closed") {
    const failed = verdict.kind === "failure";
    state.consecutiveFailures = failed ? state.consecutiveFailures + 1 : 0;
    countInWindow(state, policy, now, failed);
    // Checked after every outcome: a success can bring the window up to minimum_calls.
    const reason = tripReason(state, policy, now);
    if (reason !== null) {
      const last = verdict.kind === "failure" ? verdict.reason : (state.lastError?.message ?? "");
      open(state, now, `${reason} (last: ${last})`, policy, false, random, failed ? outcome.retryAfter : undefined);
    }
  }
  return { state, effect: "counted" };
}

/** What the retry budget said of one retry. */
export interface RetryDecision {
  allowed: boolean;
  /** Retries made in the budget's window, this one included when allowed. */
  used: number;
  /** Retries the budget allows in its window now. */
  allowance: number;
  /** First attempts admitted in the window. */
  firstAttempts: number;
  windowMs: number;
}

/**
 * Asks the breaker's retry budget for one retry of an admitted call. Allowed while the retries
 * in the window are fewer than the allowance; each allowed retry is spent at once, so callers
 * racing for the last one cannot both have it. Without a budget every retry is allowed.
 */
export function spendRetry(input: BreakerState, policy: BreakerPolicy, now: number): { state: BreakerState; retry: RetryDecision } {
  const state = advance(input, policy, now);
  state.updatedAt = now;
  state.policy = policy;
  const budget = policy.retryBudget;
  if (budget === null) {
    state.counters.retries += 1;
    return { state, retry: { allowed: true, used: 0, allowance: Infinity, firstAttempts: 0, windowMs: 0 } };
  }
  const { used, firstAttempts, allowance } = retryBudgetUse(state, budget, now);
  const allowed = used < allowance;
  if (allowed) {
    state.retryBuckets = addCounts(state.retryBuckets, budget.windowMs, now, { firsts: 0, retries: 1 });
    state.counters.retries += 1;
  } else {
    state.counters.retryBudgetRefusals += 1;
  }
  return { state, retry: { allowed, used: allowed ? used + 1 : used, allowance, firstAttempts, windowMs: budget.windowMs } };
}

/** Gives a permit back without an outcome: the call never ran for reasons of its caller. */
export function cancel(input: BreakerState, policy: BreakerPolicy, now: number, permit: Permit, random = 0.5): BreakerState {
  const state = advance(input, policy, now, random);
  if (state.settledPermits.includes(permit.id)) return state;
  settle(state, permit);
  state.updatedAt = now;
  if (takeExpired(state, permit)) {
    state.counters.lateReports += 1;
    return state;
  }
  const slot = state.probesInFlight.findIndex((p) => p.id === permit.id);
  if (slot !== -1) state.probesInFlight.splice(slot, 1);
  state.counters.cancelled += 1;
  return state;
}

/** Closes the breaker by hand and clears its failure counts; lifetime counters are kept. */
export function reset(input: BreakerState, policy: BreakerPolicy, now: number, reason = "reset by hand"): BreakerState {
  const state = clone(input);
  state.updatedAt = now;
  state.lastError = null;
  move(state, "closed", now, reason, policy);
  return state;
}

/** Forces the breaker open, for `durationMs` or until reset. */
export function trip(
  input: BreakerState,
  policy: BreakerPolicy,
  now: number,
  durationMs: number | null,
  reason = "tripped by hand",
): BreakerState {
  const state = clone(input);
  state.updatedAt = now;
  move(state, "forced-open", now, durationMs === null ? reason : `${reason} for ${Math.round(durationMs / 1000)} s`, policy);
  state.forcedUntil = durationMs === null ? null : now + durationMs;
  return state;
}

/** Lets every call through while still counting outcomes, until reset. */
export function disable(input: BreakerState, policy: BreakerPolicy, now: number, reason = "disabled by hand"): BreakerState {
  const state = clone(input);
  state.updatedAt = now;
  move(state, "disabled", now, reason, policy);
  return state;
}
