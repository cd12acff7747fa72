// Breaker states that between them use every feature `metrics` reports on, built with the pure
// core: the dashboard and rules checks and promtool's check of the exposition read them.
import { DEFAULT_POLICY, type BreakerPolicy } from "../../lib/core/policy.js";
import { initialState, type BreakerState } from "../../lib/core/state.js";
import { acquire, advance, cancel, disable, record, spendRetry, trip } from "../../lib/core/transitions.js";

const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);
const fail = { ok: false, durationMs: 1, exitCode: 1, error: "503" };
const ok = { ok: true, durationMs: 1 };

function admitted(state: BreakerState, policy: BreakerPolicy, now: number, id: string, waitedMs = 0) {
  const a = acquire(state, policy, now, id, { expectedDurationMs: 60_000, waitedMs });
  if (!a.decision.admitted) throw new Error(`${state.name}: ${id} refused`);
  return { state: a.state, permit: a.decision.permit };
}

/**
 * Breakers that between them use every feature `metrics` reports on: each outcome, every
 * state, probes failed, in flight and expired, a neutral failure, a concurrency limit with
 * waits and refusals, observe mode, a failure-rate trip, a time window, a rate limit with a
 * refusal, a retry budget with a refused retry, and a refusal that ran a fallback.
 */
export function everyFeature(): { states: BreakerState[]; now: number } {
  const quick: BreakerPolicy = { ...DEFAULT_POLICY, trip: { kind: "consecutive", threshold: 1 }, resetTimeoutMs: 1_000, halfOpenTimeoutMs: 1_000 };
  let t = T0;
  // Opened, then two probes that failed, then one in flight.
  let probing = initialState("probing", t);
  for (const id of ["a", "p1", "p2"]) {
    const a = admitted(probing, quick, t, id);
    probing = record(a.state, quick, t, a.permit, fail).state;
    t += 2_000;
  }
  probing = admitted(probing, quick, t, "p3").state;
  // Success, ignored (a neutral failure with its rule), cancelled, then a probe that expired.
  let mixed = initialState("mixed", T0);
  let a = admitted(mixed, quick, T0, "s");
  mixed = record(a.state, quick, T0, a.permit, ok).state;
  a = admitted(mixed, quick, T0, "n");
  mixed = record(a.state, quick, T0, a.permit, { ...fail, classified: { counts: false, rule: "failure_rules[0]" } }).state;
  a = admitted(mixed, quick, T0, "c");
  mixed = cancel(a.state, quick, T0, a.permit);
  a = admitted(mixed, quick, T0, "f");
  mixed = record(a.state, quick, T0, a.permit, fail).state;
  mixed = acquire(mixed, quick, T0, "refused").state;
  // A probe with no expected duration: its deadline is half_open_timeout (1 s) away.
  mixed = acquire(mixed, quick, T0 + 1_500, "lost").state;
  mixed = advance(mixed, quick, T0 + 3_000);
  // A concurrency limit: one call waited for its slot, one holds it, one was refused.
  const limited: BreakerPolicy = { ...DEFAULT_POLICY, maxConcurrentCalls: 1 };
  let slots = initialState("slots", T0);
  a = admitted(slots, limited, T0, "w", 4_000);
  slots = record(a.state, limited, T0, a.permit, ok).state;
  slots = admitted(slots, limited, T0, "held").state;
  slots = acquire(slots, limited, T0, "over").state;
  // Observe mode lets a call through that enforce mode would refuse.
  const observe: BreakerPolicy = { ...quick, mode: "observe" };
  let watched = initialState("watched", T0);
  a = admitted(watched, observe, T0, "o1");
  watched = record(a.state, observe, T0, a.permit, fail).state;
  watched = admitted(watched, observe, T0, "o2").state;
  const rate: BreakerPolicy = { ...DEFAULT_POLICY, trip: { kind: "failure-rate", rate: 0.5, windowSize: 4, minimumCalls: 2 } };
  let rated = initialState("rated", T0);
  a = admitted(rated, rate, T0, "r");
  rated = record(a.state, rate, T0, a.permit, fail).state;
  // A failure count within ten minutes, and a rate limit of one call an hour that refused a second (which fell back).
  const windowed: BreakerPolicy = {
    ...DEFAULT_POLICY,
    trip: { kind: "failures-in-time", threshold: 3, windowMs: 600_000 },
    rateLimit: { calls: 1, periodMs: 3_600_000 },
  };
  let paced = initialState("paced", T0);
  a = admitted(paced, windowed, T0, "t1");
  paced = record(a.state, windowed, T0, a.permit, fail).state;
  paced = acquire(paced, windowed, T0, "t2", { fallback: true }).state;
  // A retry budget: one retry allowed, the next refused.
  const budgeted: BreakerPolicy = { ...DEFAULT_POLICY, retryBudget: { ratio: 0, minPerMinute: 1, windowMs: 60_000 } };
  let retrying = initialState("retrying", T0);
  a = admitted(retrying, budgeted, T0, "b1");
  retrying = spendRetry(a.state, budgeted, T0).state;
  retrying = spendRetry(retrying, budgeted, T0).state;
  retrying = record(retrying, budgeted, T0, a.permit, fail).state;
  const forced = trip(initialState("forced", T0), DEFAULT_POLICY, T0, null);
  const off = disable(initialState("off", T0), DEFAULT_POLICY, T0);
  return { states: [probing, mixed, slots, watched, rated, paced, retrying, forced, off, initialState("idle", T0)], now: t };
}
