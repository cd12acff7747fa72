import { randomUUID } from "node:crypto";
import type { CallOutcome } from "../core/outcome.js";
import type { BreakerPolicy } from "../core/policy.js";
import type { BreakerState, Permit } from "../core/state.js";
import type { RecordEffect } from "../core/transitions.js";
import { limitMessage, rejectionMessage, viewOf, type BreakerView } from "../core/view.js";
import type { StateResponse } from "../store/request.js";
import type { StateStore } from "../store/state-store.js";
import { BreakerOpenError, CallerError, ConcurrencyLimitError, RateLimitError, StateUnreadableError } from "./errors.js";
import { silentObserver, type BreakerObserver } from "./observer.js";
import { queuePollDelayMs } from "./queue-backoff.js";

/** How a protected call ended, as the breaker should count it. */
export interface CallResult<T> {
  outcome: CallOutcome;
  value: T;
  /** The caller runs a fallback because of this outcome, so the breaker counts it as a fallback too. */
  fallback?: boolean;
}

export interface ProtectedCall<T> {
  store: StateStore;
  breaker: string;
  policy: BreakerPolicy;
  /** What is protected, for messages: `workflow "deploy"`. */
  what: string;
  /** Upper bound of the call's run time, so a slow probe keeps its slot (0: unknown). */
  expectedDurationMs: number;
  run: (permit: Permit) => Promise<CallResult<T>>;
  clock?: () => number;
  observer?: BreakerObserver;
  /** How long to wait for a concurrency slot, and the sleep and random sources; see AdmissionOptions. */
  admission?: Omit<AdmissionOptions, "clock">;
}

export interface ProtectedResult<T> {
  value: T;
  outcome: CallOutcome;
  effect: RecordEffect;
  permit: Permit;
  view: BreakerView;
}

/** Throws the store's report of unreadable state, which names the breaker and the fix. */
export function stateOf(response: StateResponse, breaker: string): BreakerState {
  const problem = response.problems.find((p) => p.breaker === breaker);
  if (problem) throw new StateUnreadableError(problem.message);
  const state = response.states.find((s) => s.name === breaker);
  if (!state) throw new Error(`the state store returned no state for breaker "${breaker}"`);
  return state;
}

/** How an acquire waits for a concurrency slot, and the sources of time and chance it uses. */
export interface AdmissionOptions {
  /** How long a call over the concurrency limit waits for a slot before it is refused; 0: refuse at once. */
  queueTimeoutMs?: number;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Draws for the open-time jitter and the queue's poll spread; seeded in tests. */
  random?: () => number;
  /** The caller runs a fallback if refused, so the breaker counts a refusal as a fallback too. */
  fallback?: boolean;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Tells the observer of each transition a state request made: this caller is the one that made it. */
function reportTransitions(response: StateResponse, state: BreakerState, observer: BreakerObserver): void {
  for (const transition of response.transitions ?? []) {
    observer.observe({ kind: "transition", breaker: state.name, transition, lastError: state.lastError });
  }
}

/**
 * Asks the breaker to admit one call. A call over the concurrency limit polls, with growing
 * waits, until a slot frees or `queueTimeoutMs` has passed; a call over the rate limit sleeps
 * until the slot the breaker names frees (spread a little), within the same timeout. Any other
 * refusal is final at once.
 */
export async function acquirePermit(
  store: StateStore,
  breaker: string,
  policy: BreakerPolicy,
  what: string,
  expectedDurationMs: number,
  observer: BreakerObserver = silentObserver,
  admission: AdmissionOptions = {},
): Promise<Permit> {
  const clock = admission.clock ?? Date.now;
  const random = admission.random ?? Math.random;
  const sleep = admission.sleep ?? realSleep;
  const queueTimeoutMs = admission.queueTimeoutMs ?? 0;
  const started = clock();
  for (let poll = 1; ; poll++) {
    const waitedMs = clock() - started;
    const request = { op: "acquire" as const, breaker, policy, permitId: randomUUID(), expectedDurationMs, waitedMs, random: random() };
    const response = await store.apply(admission.fallback === true ? { ...request, fallback: true } : request);
    const state = stateOf(response, breaker);
    reportTransitions(response, state, observer);
    const decision = response.decision;
    if (!decision) throw new Error(`the state store did not decide on breaker "${breaker}"`);
    if (decision.admitted) {
      const slotsInUse = policy.maxConcurrentCalls === null ? null : state.leases.length;
      const wouldHaveRejected = decision.wouldHaveRejected?.reason ?? null;
      observer.observe({ kind: "admitted", breaker, permit: decision.permit, status: state.status, waitedMs, slotsInUse, wouldHaveRejected });
      return decision.permit;
    }
    const left = started + queueTimeoutMs - clock();
    const limited = decision.limit !== undefined || decision.rateLimit !== undefined;
    if (limited && left > 0) {
      const spread = queuePollDelayMs(poll, random);
      const untilFree = decision.rateLimit !== undefined && decision.retryAt !== null ? decision.retryAt - response.now + spread : spread;
      await sleep(Math.min(Math.max(spread, untilFree), left));
      continue;
    }
    const view = viewOf(state, response.now, policy);
    const message = limited
      ? limitMessage(view.name, decision, response.now, what, waitedMs)
      : rejectionMessage(view, decision, response.now, what);
    const limit = decision.limit ?? null;
    const rateLimit = decision.rateLimit ?? null;
    observer.observe({ kind: "rejected", breaker, status: state.status, reason: decision.reason, retryAt: decision.retryAt, message, waitedMs, limit, rateLimit });
    if (limit !== null) throw new ConcurrencyLimitError(message, view, decision.retryAt, limit);
    if (rateLimit !== null) throw new RateLimitError(message, view, decision.retryAt, rateLimit);
    throw new BreakerOpenError(message, view, decision.retryAt);
  }
}

/** Records a permit's outcome and reports it to the observer. */
export async function recordOutcome(
  store: StateStore,
  policy: BreakerPolicy,
  permit: Permit,
  outcome: CallOutcome,
  observer: BreakerObserver = silentObserver,
  random: () => number = Math.random,
  fallback = false,
): Promise<{ state: BreakerState; effect: RecordEffect; now: number }> {
  const request = { op: "record" as const, breaker: permit.breaker, policy, permit, outcome, random: random() };
  const response = await store.apply(fallback ? { ...request, fallback: true } : request);
  const state = stateOf(response, permit.breaker);
  reportTransitions(response, state, observer);
  const effect = response.effect ?? "counted";
  // A transition this record caused carries the store time of this request.
  const from = state.history.at(-1)?.at === response.now ? (state.history.at(-1)?.from ?? state.status) : state.status;
  observer.observe({ kind: "recorded", breaker: permit.breaker, permit, outcome, effect, from, status: state.status });
  return { state, effect, now: response.now };
}

/**
 * Runs `call.run` under the breaker: one state request to be admitted (the only one when
 * refused) and one to record the outcome. Errors of the caller give the permit back
 * uncounted; any other error counts as a failure and is thrown again.
 */
export async function runProtected<T>(call: ProtectedCall<T>): Promise<ProtectedResult<T>> {
  const clock = call.clock ?? Date.now;
  const observer = call.observer ?? silentObserver;
  const admission = { ...call.admission, clock };
  const random = admission.random ?? Math.random;
  const permit = await acquirePermit(call.store, call.breaker, call.policy, call.what, call.expectedDurationMs, observer, admission);
  const started = clock();
  let result: CallResult<T>;
  try {
    result = await call.run(permit);
  } catch (e) {
    if (e instanceof CallerError) {
      const response = await call.store.apply({ op: "cancel", breaker: call.breaker, policy: call.policy, permit, random: random() });
      reportTransitions(response, stateOf(response, call.breaker), observer);
    } else {
      const outcome = { ok: false, durationMs: clock() - started, exitCode: null, error: (e as Error).message ?? String(e) };
      await recordOutcome(call.store, call.policy, permit, outcome, observer, random);
    }
    throw e;
  }
  const recorded = await recordOutcome(call.store, call.policy, permit, result.outcome, observer, random, result.fallback === true);
  return {
    value: result.value,
    outcome: result.outcome,
    effect: recorded.effect,
    permit,
    view: viewOf(recorded.state, recorded.now, call.policy),
  };
}
