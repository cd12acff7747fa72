import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY, type BreakerPolicy } from "../../lib/core/policy.js";
import { initialState, type BreakerState } from "../../lib/core/state.js";
import { acquire, record, trip, type Decision } from "../../lib/core/transitions.js";

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const ok = { ok: true, durationMs: 10 };
const fail = { ok: false, durationMs: 10, exitCode: 1, error: "deploy failed" };
const observing: BreakerPolicy = { ...DEFAULT_POLICY, mode: "observe", trip: { kind: "consecutive", threshold: 3 } };

function runs(policy: BreakerPolicy, outcomes: (typeof ok | typeof fail)[], state = initialState("staging", T0), now = T0) {
  const decisions: Decision[] = [];
  outcomes.forEach((outcome, i) => {
    const a = acquire(state, policy, now, `p${i}`);
    decisions.push(a.decision);
    state = a.state;
    if (a.decision.admitted) state = record(state, policy, now, a.decision.permit, outcome).state;
  });
  return { state, decisions };
}

describe("mode: observe", () => {
  it("opens as enforce mode would, but admits every call and counts each it would have refused", () => {
    const { state, decisions } = runs(observing, [fail, fail, fail, fail, fail, fail, fail]);
    expect(decisions.every((d) => d.admitted)).toBe(true);
    expect(state.status).toBe("open");
    expect(state.history.filter((t) => t.to === "open")).toHaveLength(1);
    expect(state.counters).toMatchObject({ wouldHaveRejected: 4, rejections: 0, failures: 7, admitted: 7 });
    expect(decisions.at(-1)).toMatchObject({ admitted: true, wouldHaveRejected: { reason: "is open", retryAt: T0 + 60_000 } });
  });

  it("is what enforce mode refuses, call for call", () => {
    const outcomes = [fail, fail, fail, fail, ok, fail];
    const observed = runs(observing, outcomes).decisions.filter((d) => d.admitted && d.wouldHaveRejected).length;
    const enforced = runs({ ...observing, mode: "enforce" }, outcomes).decisions.filter((d) => !d.admitted).length;
    expect(observed).toBe(enforced);
    expect(enforced).toBe(3);
  });

  it("still probes and closes once the open time has passed", () => {
    const opened = runs(observing, [fail, fail, fail]);
    const later = T0 + 60_000;
    const probe = acquire(opened.state, observing, later, "probe");
    expect(probe.decision).toMatchObject({ admitted: true, permit: { probe: true } });
    expect(probe.decision.admitted && probe.decision.wouldHaveRejected).toBeFalsy();
    const closed = probe.decision.admitted ? record(probe.state, observing, later, probe.decision.permit, ok).state : probe.state;
    expect(closed.status).toBe("closed");
  });

  it("lets calls through a breaker tripped by hand, counting them", () => {
    const tripped = trip(initialState("staging", T0), observing, T0, null);
    const a = acquire(tripped, observing, T0 + 1, "p");
    expect(a.decision).toMatchObject({ admitted: true, wouldHaveRejected: { reason: "was tripped by hand (forced open)" } });
    expect(a.state.counters.wouldHaveRejected).toBe(1);
  });

  it("admits over a full concurrency limit without a slot, counting it", () => {
    const policy: BreakerPolicy = { ...observing, maxConcurrentCalls: 1 };
    const first = acquire(initialState("staging", T0), policy, T0, "a");
    const second = acquire(first.state, policy, T0, "b");
    expect(second.decision).toMatchObject({ admitted: true, wouldHaveRejected: { limit: { inUse: 1, max: 1 } } });
    expect(second.state.leases.map((l) => l.id)).toEqual(["a"]);
  });
});
