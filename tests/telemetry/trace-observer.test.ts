import { trace } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../lib/core/policy.js";
import { runProtected } from "../../lib/protection/run-protected.js";
import { MemoryStateStore } from "../../lib/store/memory-store.js";
import { TraceObserver } from "../../lib/telemetry/trace-observer.js";

const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
afterAll(() => trace.disable());

describe("breaker decisions in traces", () => {
  it("shows admissions, the trip, rejections and probes as spans with the breaker's attributes", async () => {
    let now = Date.UTC(2026, 10, 28, 11, 0, 0);
    const store = new MemoryStateStore(() => now);
    const policy = { ...DEFAULT_POLICY, trip: { kind: "consecutive" as const, threshold: 2 } };
    const call = (ok: boolean) =>
      runProtected({
        store, breaker: "registry", policy, what: "push", expectedDurationMs: 0, observer: new TraceObserver(),
        run: async () => ({ value: null, outcome: { ok, durationMs: 3 } }),
      }).catch(() => undefined);
    await call(false);
    await call(false);
    await call(true);
    now += 60_000;
    await call(true);

    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual([
      "circuit breaker registry: admitted",
      "circuit breaker registry: failure recorded",
      "circuit breaker registry: admitted",
      "circuit breaker registry: closed -> open",
      "circuit breaker registry: rejected (open)",
      "circuit breaker registry: probe admitted",
      "circuit breaker registry: half-open -> closed",
    ]);
    const rejected = spans[4];
    expect(rejected?.status.code).toBe(2);
    expect(rejected?.attributes).toMatchObject({
      "circuit_breaker.name": "registry",
      "circuit_breaker.state": "open",
      "circuit_breaker.decision": "rejected",
      "circuit_breaker.next_probe_at": "2026-11-28T11:01:00.000Z",
    });
    expect(spans[5]?.attributes).toMatchObject({ "circuit_breaker.probe": true, "circuit_breaker.state": "half-open" });
  });

  it("names the rule that classified a recorded failure, and marks a neutral one as ignored", async () => {
    exporter.reset();
    const store = new MemoryStateStore(() => Date.UTC(2026, 10, 30, 11, 0, 0));
    await runProtected({
      store, breaker: "staging-api", policy: DEFAULT_POLICY, what: "release", expectedDurationMs: 0, observer: new TraceObserver(),
      run: async () => ({ value: null, outcome: { ok: false, durationMs: 3, exitCode: 1, classified: { counts: false, rule: 'step "test" guarded: false' } } }),
    });
    const recorded = exporter.getFinishedSpans().at(-1);
    expect(recorded?.attributes).toMatchObject({ "circuit_breaker.rule": 'step "test" guarded: false', "circuit_breaker.effect": "ignored" });
  });
});
