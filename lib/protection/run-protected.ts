import { randomUUID } from "node:crypto";
import type { CallOutcome } from "../core/outcome.js";
import type { BreakerPolicy } from "../core/policy.js";
import type { BreakerState, Permit } from "../core/state.js";
import type { RecordEffect } from "../core/transitions.js";
import { rejectionMessage, viewOf, type BreakerView } from "../core/view.js";
import type { StateResponse } from "../store/request.js";
import type { StateStore } from "../store/state-store.js";
import { BreakerOpenError, CallerError, StateUnreadableError } from "./errors.js";
import { silentObserver, type BreakerObserver } from "./observer.js";

/** How a protected call ended, as the breaker should count it. */
export interface CallResult<T> {
  outcome: CallOutcome;
  value: T;
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

export async function acquirePermit(
  store: StateStore,
  breaker: string,
  policy: BreakerPolicy,
  what: string,
  expectedDurationMs: number,
  observer: BreakerObserver = silentObserver,
): Promise<Permit> {
  const response = await store.apply({ op: "acquire", breaker, policy, permitId: randomUUID(), expectedDurationMs });
  const state = stateOf(response, breaker);
  const decision = response.decision;
  if (!decision) throw new Error(`the state store did not decide on breaker "${breaker}"`);
  if (!decision.admitted) {
    const view = viewOf(state, response.now, policy);
    const message = rejectionMessage(view, decision, response.now, what);
    observer.observe({ kind: "rejected", breaker, status: state.status, reason: decision.reason, retryAt: decision.retryAt, message });
    throw new BreakerOpenError(message, view, decision.retryAt);
  }
  observer.observe({ kind: "admitted", breaker, permit: decision.permit, status: state.status });
  return decision.permit;
}

/** Records a permit's outcome and reports it to the observer. */
export async function recordOutcome(
  store: StateStore,
  policy: BreakerPolicy,
  permit: Permit,
  outcome: CallOutcome,
  observer: BreakerObserver = silentObserver,
): Promise<{ state: BreakerState; effect: RecordEffect; now: number }> {
  const response = await store.apply({ op: "record", breaker: permit.breaker, policy, permit, outcome });
  const state = stateOf(response, permit.breaker);
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
  const permit = await acquirePermit(call.store, call.breaker, call.policy, call.what, call.expectedDurationMs, observer);
  const started = clock();
  let result: CallResult<T>;
  try {
    result = await call.run(permit);
  } catch (e) {
    if (e instanceof CallerError) {
      await call.store.apply({ op: "cancel", breaker: call.breaker, policy: call.policy, permit });
    } else {
      const outcome = { ok: false, durationMs: clock() - started, exitCode: null, error: (e as Error).message ?? String(e) };
      await recordOutcome(call.store, call.policy, permit, outcome, observer);
    }
    throw e;
  }
  const recorded = await recordOutcome(call.store, call.policy, permit, result.outcome, observer);
  return {
    value: result.value,
    outcome: result.outcome,
    effect: recorded.effect,
    permit,
    view: viewOf(recorded.state, recorded.now, call.policy),
  };
}
