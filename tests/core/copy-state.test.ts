import { describe, expect, it } from "vitest";
import { copyState } from "../../lib/core/copy-state.js";
import { DEFAULT_POLICY } from "../../lib/core/policy.js";
import { initialState } from "../../lib/core/state.js";
import { acquire, record, spendRetry } from "../../lib/core/transitions.js";

describe("copyState", () => {
  it("copies every field and shares no object with the original", () => {
    const policy = { ...DEFAULT_POLICY, trip: { kind: "failure-rate" as const, rate: 0.5, windowSize: 4, minimumCalls: 2 }, ignoredExitCodes: [75] };
    let state = initialState("copy", 0);
    for (let i = 0; i < 6; i++) {
      const r = acquire(state, policy, i * 70_000, `p${i}`);
      state = r.state;
      if (r.decision.admitted) state = record(state, policy, i * 70_000, r.decision.permit, { ok: i % 3 === 0, durationMs: 1, exitCode: 1, error: "e" }).state;
    }
    state = acquire(state, policy, 1e7, "held").state;
    expect(state.history.length).toBeGreaterThan(1);
    expect(state.probesInFlight).toHaveLength(1);

    const copy = copyState(state);
    expect(copy).toEqual(state);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(state));
    const before = JSON.stringify(state);
    copy.counters.admitted += 1;
    copy.window.push(true);
    copy.history[0]!.reason = "changed";
    copy.probesInFlight[0]!.expiresAt = 1;
    copy.policy!.ignoredExitCodes.push(1);
    copy.lastError!.message = "changed";
    expect(JSON.stringify(state)).toBe(before);
  });

  it("copies the time buckets, the rate limit and the retry budget without sharing them", () => {
    const policy = {
      ...DEFAULT_POLICY,
      trip: { kind: "failures-in-time" as const, threshold: 9, windowMs: 600_000 },
      rateLimit: { calls: 9, periodMs: 60_000 },
      retryBudget: { ratio: 1, minPerMinute: 1, windowMs: 60_000 },
    };
    const a = acquire(initialState("copy", 0), policy, 0, "p");
    if (!a.decision.admitted) throw new Error("refused");
    const state = spendRetry(record(a.state, policy, 0, a.decision.permit, { ok: false, durationMs: 1 }).state, policy, 0).state;
    const copy = copyState(state);
    expect(copy).toEqual(state);
    const before = JSON.stringify(state);
    copy.outcomeBuckets[0]!.failures += 1;
    copy.admissionBuckets[0]!.calls += 1;
    copy.retryBuckets[0]!.retries += 1;
    copy.policy!.rateLimit!.calls += 1;
    copy.policy!.retryBudget!.ratio += 1;
    expect(JSON.stringify(state)).toBe(before);
  });
});
