import { DEFAULT_POLICY } from "../core/policy.js";
import { parseState, StateError } from "../core/serialize.js";
import { initialState, type BreakerState, type Transition } from "../core/state.js";
import { acquire, cancel, disable, record, reset, spendRetry, trip } from "../core/transitions.js";
import type { StateRequest, StateResponse } from "./request.js";

/** A request on one breaker; reads and prunes span breakers and are handled by each store. */
export type WriteRequest = Exclude<StateRequest, { op: "read" | "prune" }>;

/**
 * Applies one request to a breaker's stored text. Returns the state to write (null: write
 * nothing) and the response. Unreadable state is reported and left as it is, except by
 * `reset`, which is the documented way to recover from it.
 */
export function applyRequest(
  request: WriteRequest,
  stored: string | null,
  now: number,
): { next: BreakerState | null; response: StateResponse } {
  let current: BreakerState;
  try {
    current = stored === null ? initialState(request.breaker, now) : parseState(stored, request.breaker);
  } catch (e) {
    if (!(e instanceof StateError)) throw e;
    if (request.op !== "reset") {
      return { next: null, response: { now, states: [], problems: [{ breaker: request.breaker, message: e.message }] } };
    }
    current = initialState(request.breaker, now);
  }
  const policy = ("policy" in request ? request.policy : null) ?? current.policy ?? DEFAULT_POLICY;
  const done = (next: BreakerState, extra: Partial<StateResponse> = {}) => ({
    next,
    response: { now, states: [next], problems: [], transitions: causedBy(current, next), ...extra },
  });
  switch (request.op) {
    case "acquire": {
      const r = acquire(current, policy, now, request.permitId, {
        expectedDurationMs: request.expectedDurationMs,
        waitedMs: request.waitedMs,
        random: request.random,
        fallback: request.fallback,
      });
      return done(r.state, { decision: r.decision });
    }
    case "record": {
      const r = record(current, policy, now, request.permit, request.outcome, request.random, request.fallback);
      return done(r.state, { effect: r.effect });
    }
    case "retry": {
      const r = spendRetry(current, policy, now);
      return done(r.state, { retry: r.retry });
    }
    case "cancel":
      return done(cancel(current, policy, now, request.permit, request.random));
    case "reset":
      return done(reset(current, policy, now));
    case "trip":
      return done(trip(current, policy, now, request.durationMs));
    case "disable":
      return done(disable(current, policy, now));
  }
}

/** The transitions this request made, oldest first: what alerts are sent for, exactly once each. */
function causedBy(before: BreakerState, after: BreakerState): Transition[] {
  const made = after.counters.stateChanges - before.counters.stateChanges;
  return made > 0 ? after.history.slice(-made) : [];
}

/** Parses stored breakers for a read; unreadable ones become problems, not errors. */
export function readStates(entries: { breaker: string; text: string }[], now: number): StateResponse {
  const states: BreakerState[] = [];
  const problems: StateResponse["problems"] = [];
  for (const { breaker, text } of entries) {
    try {
      states.push(parseState(text, breaker));
    } catch (e) {
      if (!(e instanceof StateError)) throw e;
      problems.push({ breaker, message: e.message });
    }
  }
  states.sort((a, b) => a.name.localeCompare(b.name));
  return { now, states, problems };
}
