import { randomUUID } from "node:crypto";
import type { CallOutcome } from "../core/outcome.js";
import type { BreakerPolicy } from "../core/policy.js";
import type { BreakerState, Permit } from "../core/state.js";
import type { RecordEffect } from "../core/transitions.js";
import { rejectionMessage, viewOf, type BreakerView } from "../core/view.js";
import type { StateResponse } from "../store/request.js";
import type { StateStore } from "../store/state-store.js";
import { BreakerOpenError, CallerError, StateUnreadableError } from "./errors.js";

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
): Promise<Permit> {
  const response = await store.apply({ op: "acquire", breaker, policy, permitId: randomUUID(), expectedDurationMs });
  const state = stateOf(response, breaker);
  const decision = response.decision;
  if (!decision) throw new Error(`the state store did not decide on breaker "${breaker}"`);
  if (!decision.admitted) {
    const view = viewOf(state, response.now, policy);
    throw new BreakerOpenError(rejectionMessage(view, decision, response.now, what), view, decision.retryAt);
  }
  return decision.permit;
}

/**
 * Runs `call.run` under the breaker: one state request to be admitted (the only one when
 * refused) and one to record the outcome. Errors of the caller give the permit back
 * uncounted; any other error counts as a failure and is thrown again.
 */
export async function runProtected<T>(call: ProtectedCall<T>): Promise<ProtectedResult<T>> {
  const clock = call.clock ?? Date.now;
  const permit = await acquirePermit(call.store, call.breaker, call.policy, call.what, call.expectedDurationMs);
  const started = clock();
  let result: CallResult<T>;
  try {
    result = await call.run(permit);
  } catch (e) {
    if (e instanceof CallerError) {
      await call.store.apply({ op: "cancel", breaker: call.breaker, policy: call.policy, permit });
    } else {
      const outcome = { ok: false, durationMs: clock() - started, exitCode: null, error: (e as Error).message ?? String(e) };
      await call.store.apply({ op: "record", breaker: call.breaker, policy: call.policy, permit, outcome });
    }
    throw e;
  }
  const response = await call.store.apply({
    op: "record",
    breaker: call.breaker,
    policy: call.policy,
    permit,
    outcome: result.outcome,
  });
  const state = stateOf(response, call.breaker);
  return {
    value: result.value,
    outcome: result.outcome,
    effect: response.effect ?? "counted",
    permit,
    view: viewOf(state, response.now, call.policy),
  };
}
