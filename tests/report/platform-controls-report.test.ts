import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY, type BreakerPolicy } from "../../lib/core/policy.js";
import { initialState, type BreakerState } from "../../lib/core/state.js";
import { acquire, record } from "../../lib/core/transitions.js";
import { prometheusMetrics } from "../../lib/report/metrics.js";
import { statusReport, statusTable } from "../../lib/report/status-report.js";

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const fail = { ok: false, durationMs: 1, exitCode: 1, error: "503" };

/** A limited breaker: one call running, one that waited 4 s and finished, one refused for the limit. */
function limitedState(): BreakerState {
  const policy: BreakerPolicy = { ...DEFAULT_POLICY, maxConcurrentCalls: 1 };
  let state = initialState("staging", T0);
  const waited = acquire(state, policy, T0, "a", { expectedDurationMs: 60_000, waitedMs: 4_000 });
  if (!waited.decision.admitted) throw new Error("expected admission");
  state = record(waited.state, policy, T0 + 1, waited.decision.permit, { ok: true, durationMs: 1 }).state;
  state = acquire(state, policy, T0 + 2, "b", { expectedDurationMs: 60_000 }).state;
  return acquire(state, policy, T0 + 3, "c", { expectedDurationMs: 60_000 }).state;
}

/** An observing breaker that opened and let two more failing calls through. */
function observedState(): BreakerState {
  const policy: BreakerPolicy = { ...DEFAULT_POLICY, mode: "observe", trip: { kind: "consecutive", threshold: 1 } };
  let state = initialState("new-threshold", T0);
  for (let i = 0; i < 3; i++) {
    const a = acquire(state, policy, T0, `p${i}`);
    if (!a.decision.admitted) throw new Error("observe mode refused");
    state = record(a.state, policy, T0, a.decision.permit, fail).state;
  }
  return state;
}

describe("status and metrics of the platform controls", () => {
  it("status shows slots in use, waits and limit refusals, and observe mode's tally", () => {
    const table = statusTable([limitedState(), observedState()], [], T0 + 10);
    expect(table).toContain(
      "staging: 1/1 concurrency slots in use; 1 call(s) waited, 4.0 s on average; 1 refused for the limit, 0 slot(s) freed at their deadline",
    );
    expect(table).toContain("new-threshold: observe mode, nothing refused; 2 call(s) would have been rejected");
    expect(table).not.toContain("staging: observe");
  });

  it("status JSON carries the concurrency, the mode and the new counters", () => {
    const report = statusReport([limitedState(), observedState()], [], T0 + 10);
    expect(report.breakers.find((b) => b.name === "staging")).toMatchObject({
      concurrency: { inUse: 1, max: 1 },
      mode: "enforce",
      counters: { limitRefusals: 1, queuedCalls: 1, queueWaitMs: 4_000, rejections: 0 },
    });
    expect(report.breakers.find((b) => b.name === "new-threshold")).toMatchObject({ concurrency: null, mode: "observe", counters: { wouldHaveRejected: 2 } });
  });

  it("metrics expose slots, the limit, refusals, waits and would-have-rejected", () => {
    const text = prometheusMetrics([limitedState(), observedState()], T0 + 10);
    expect(text).toContain('circuit_breaker_concurrency_slots_in_use{breaker="staging"} 1');
    expect(text).toContain('circuit_breaker_concurrency_limit{breaker="staging"} 1');
    expect(text).not.toContain('circuit_breaker_concurrency_limit{breaker="new-threshold"}');
    expect(text).toContain('circuit_breaker_concurrency_refusals_total{breaker="staging"} 1');
    expect(text).toContain('circuit_breaker_queue_wait_seconds_total{breaker="staging"} 4');
    expect(text).toContain('circuit_breaker_queued_calls_total{breaker="staging"} 1');
    expect(text).toContain('circuit_breaker_would_have_rejected_total{breaker="new-threshold"} 2');
  });
});
