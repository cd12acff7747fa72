import { describe, expect, it } from "vitest";
import type { CallOutcome } from "../../lib/core/outcome.js";
import { DEFAULT_POLICY, type BreakerPolicy } from "../../lib/core/policy.js";
import { initialState, type BreakerState, type Permit } from "../../lib/core/state.js";
import { acquire, record, reset } from "../../lib/core/transitions.js";

const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);
const ok: CallOutcome = { ok: true, durationMs: 10 };
const fail: CallOutcome = { ok: false, durationMs: 10, exitCode: 1, error: "step push exited 1" };

function admit(state: BreakerState, policy: BreakerPolicy, now: number, id: string): { state: BreakerState; permit: Permit } {
  const r = acquire(state, policy, now, id);
  if (!r.decision.admitted) throw new Error(`expected admission of ${id}, got: ${r.decision.reason}`);
  return { state: r.state, permit: r.decision.permit };
}

/** The parts of a breaker a report may change only when it belongs to the current generation. */
function behaviour(s: BreakerState) {
  return {
    status: s.status,
    generation: s.generation,
    since: s.since,
    consecutiveFailures: s.consecutiveFailures,
    window: [...s.window],
    probesInFlight: s.probesInFlight.map((p) => p.id),
    probeSuccesses: s.probeSuccesses,
    openUntil: s.openUntil,
    reopenCount: s.reopenCount,
    history: s.history.length,
  };
}

describe("a report carrying a permit from an older generation", () => {
  const consecutive1: BreakerPolicy = { ...DEFAULT_POLICY, trip: { kind: "consecutive", threshold: 1 } };
  const consecutive5: BreakerPolicy = { ...DEFAULT_POLICY, trip: { kind: "consecutive", threshold: 5 } };
  const rate1: BreakerPolicy = { ...DEFAULT_POLICY, trip: { kind: "failure-rate", rate: 0.5, windowSize: 4, minimumCalls: 1 } };
  const rate10: BreakerPolicy = { ...DEFAULT_POLICY, trip: { kind: "failure-rate", rate: 0.5, windowSize: 20, minimumCalls: 10 } };
  const closedCases = [
    ["consecutive, threshold 1", consecutive1],
    ["consecutive, threshold 5: no trip, only the count", consecutive5],
    ["failure rate, minimum 1", rate1],
    ["failure rate, minimum 10: no trip, only the window", rate10],
  ] as const;

  for (const [label, policy] of closedCases) {
    it(`on a closed breaker (${label}): a failure opens nothing and counts toward nothing`, () => {
      let state = initialState("deploy", T0);
      const old = admit(state, policy, T0, "old");
      state = old.state;
      // A reset of the closed breaker starts a new generation while the old permit is out.
      state = reset(state, policy, T0 + 1_000);
      expect(state.generation).toBeGreaterThan(old.permit.generation);
      const before = behaviour(state);

      const r = record(state, policy, T0 + 2_000, old.permit, fail);
      expect(behaviour(r.state)).toEqual(before);
      expect(r.state.status).toBe("closed");
      expect(r.state.consecutiveFailures).toBe(0);
      expect(r.state.window).toEqual([]);
      expect(r.effect).toBe("stale");

      // A current failure still counts, from zero.
      const now = admit(r.state, policy, T0 + 3_000, "new");
      const counted = record(now.state, policy, T0 + 3_000, now.permit, fail).state;
      if (policy === consecutive1 || policy === rate1) expect(counted.status).toBe("open");
      else expect([counted.consecutiveFailures, counted.window.length]).toEqual(policy === consecutive5 ? [1, 0] : [1, 1]);
    });
  }

  it("on a half-open breaker: a failure does not re-open it, nor free or take a probe slot", () => {
    const policy: BreakerPolicy = { ...DEFAULT_POLICY, trip: { kind: "consecutive", threshold: 1 }, halfOpenMaxProbes: 2, successThreshold: 2 };
    let state = initialState("deploy", T0);
    // A call admitted while closed, still running when the breaker moves on.
    const old = admit(state, policy, T0, "old");
    state = old.state;
    const tripping = admit(state, policy, T0, "tripping");
    state = record(tripping.state, policy, T0 + 10, tripping.permit, fail).state;
    expect(state.status).toBe("open");
    // The open time passes: the next acquire finds it half-open and takes one of two probe slots.
    const probe = admit(state, policy, T0 + policy.resetTimeoutMs + 10, "probe");
    state = probe.state;
    expect(state.status).toBe("half-open");
    expect(probe.permit.probe).toBe(true);
    expect(state.probesInFlight.map((p) => p.id)).toEqual(["probe"]);
    const before = behaviour(state);

    const at = T0 + policy.resetTimeoutMs + 20;
    const failed = record(state, policy, at, old.permit, fail);
    expect(behaviour(failed.state)).toEqual(before);
    expect(failed.state.status).toBe("half-open");
    expect(failed.state.probesInFlight.map((p) => p.id)).toEqual(["probe"]);
    expect(failed.effect).toBe("stale");

    // The second slot is still free, and the real probe still decides.
    const second = admit(failed.state, policy, at, "probe-2");
    expect(second.permit.probe).toBe(true);
    expect(second.state.probesInFlight.map((p) => p.id)).toEqual(["probe", "probe-2"]);
    const refused = acquire(second.state, policy, at, "probe-3");
    expect(refused.decision.admitted).toBe(false);
  });

  it("on a half-open breaker: a success neither closes it nor counts as a probe success", () => {
    const policy: BreakerPolicy = { ...DEFAULT_POLICY, trip: { kind: "consecutive", threshold: 1 }, halfOpenMaxProbes: 1, successThreshold: 1 };
    let state = initialState("deploy", T0);
    const old = admit(state, policy, T0, "old");
    state = old.state;
    const tripping = admit(state, policy, T0, "tripping");
    state = record(tripping.state, policy, T0 + 10, tripping.permit, fail).state;
    const probe = admit(state, policy, T0 + policy.resetTimeoutMs + 10, "probe");
    state = probe.state;
    const before = behaviour(state);

    const r = record(state, policy, T0 + policy.resetTimeoutMs + 20, old.permit, ok);
    expect(behaviour(r.state)).toEqual(before);
    expect(r.state.status).toBe("half-open");
    expect(r.state.probeSuccesses).toBe(0);
    expect(r.effect).toBe("stale");
  });
});
