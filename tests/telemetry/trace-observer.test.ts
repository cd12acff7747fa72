import { trace } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../lib/core/policy.js";
import { runProtected, type CallResult } from "../../lib/protection/run-protected.js";
import { MemoryStateStore } from "../../lib/store/memory-store.js";
import { TraceObserver } from "../../lib/telemetry/trace-observer.js";
import { parseConfig } from "../../lib/config/parse-config.js";
import { resolveWorkflow, type ResolvedStep } from "../../lib/config/resolve-workflow.js";
import { executeWorkflow } from "../../lib/service/execute-workflow.js";
import type { StepRun } from "../../lib/workflow/run-workflow.js";

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

  it("shows the wait for a concurrency slot, the slots in use, and a refusal for a full limit", async () => {
    exporter.reset();
    let now = Date.UTC(2026, 10, 30, 12, 0, 0);
    const store = new MemoryStateStore(() => now);
    const policy = { ...DEFAULT_POLICY, maxConcurrentCalls: 1 };
    const sleep = async (ms: number) => {
      now += ms;
    };
    let release: () => void = () => undefined;
    const holder = runProtected({
      store, breaker: "staging", policy, what: "deploy", expectedDurationMs: 60_000, observer: new TraceObserver(), clock: () => now,
      run: () => new Promise<CallResult<null>>((resolve) => (release = () => resolve({ value: null, outcome: { ok: true, durationMs: 1 } }))),
    });
    await runProtected({
      store, breaker: "staging", policy, what: "deploy", expectedDurationMs: 60_000, observer: new TraceObserver(), clock: () => now,
      admission: { queueTimeoutMs: 1_000, sleep },
      run: async () => ({ value: null, outcome: { ok: true, durationMs: 1 } }),
    }).catch(() => undefined);
    release();
    await holder;
    const spans = exporter.getFinishedSpans();
    expect(spans[0]?.attributes).toMatchObject({ "circuit_breaker.slots_in_use": 1, "circuit_breaker.queue_wait_ms": 0 });
    const refused = spans.find((s) => s.name === "circuit breaker staging: rejected (concurrency limit 1)");
    expect(refused?.attributes).toMatchObject({
      "circuit_breaker.decision": "rejected_concurrency_limit",
      "circuit_breaker.slots_in_use": 1,
      "circuit_breaker.max_concurrent_calls": 1,
      "circuit_breaker.queue_wait_ms": expect.any(Number),
    });
    expect(Number(refused?.attributes["circuit_breaker.queue_wait_ms"])).toBeGreaterThanOrEqual(1_000);
  });

  it("marks a call observe mode let through as would-have-rejected", async () => {
    exporter.reset();
    const store = new MemoryStateStore(() => Date.UTC(2026, 10, 30, 13, 0, 0));
    const policy = { ...DEFAULT_POLICY, mode: "observe" as const, trip: { kind: "consecutive" as const, threshold: 1 } };
    const call = () =>
      runProtected({
        store, breaker: "new-threshold", policy, what: "check", expectedDurationMs: 0, observer: new TraceObserver(),
        run: async () => ({ value: null, outcome: { ok: false, durationMs: 1, exitCode: 1 } }),
      });
    await call();
    await call();
    const observed = exporter.getFinishedSpans().find((s) => s.name === "circuit breaker new-threshold: would have rejected (observe mode)");
    expect(observed?.attributes).toMatchObject({ "circuit_breaker.decision": "would_have_rejected", "circuit_breaker.would_have_rejected": "is open" });
  });

  it("shows a rate-limit refusal, each retry the budget allowed or refused, and the fallback run instead", async () => {
    exporter.reset();
    const config = parseConfig(
      [
        "workflows:",
        "  push:",
        "    fallback: cached",
        "    retry: { max_retries: 2, backoff_factor: 0 }",
        "    circuit_breaker: { rate_limit: { calls: 1, period_seconds: 60 }, retry_budget: { ratio: 0, min_retries_per_minute: 1 } }",
        "    steps: [{ name: push, image: alpine, command: [push] }]",
        "  cached:",
        "    steps: [{ name: cached, image: alpine, command: [cached] }]",
      ].join("\n"),
      "dagger.yaml",
    );
    const store = new MemoryStateStore(() => Date.UTC(2026, 11, 4, 13, 0, 0));
    const steps = { run: async (step: ResolvedStep): Promise<StepRun> => ({ exitCode: step.name === "push" ? 1 : 0, stdout: "", stderr: "", durationMs: 1, timedOut: false }) };
    const fallback = { workflow: resolveWorkflow(config, "cached"), onFailure: false, alert: null };
    for (let i = 0; i < 2; i++) await executeWorkflow(store, resolveWorkflow(config, "push"), steps, { fallback }, new TraceObserver());
    const spans = exporter.getFinishedSpans();
    const names = spans.map((s) => s.name);
    expect(names).toContain("circuit breaker push: retry allowed (1/1)");
    const refusedRetry = spans.find((s) => s.name === "circuit breaker push: retry refused, budget spent (1/1)");
    expect(refusedRetry?.attributes).toMatchObject({ "circuit_breaker.retry": "refused_budget_spent", "circuit_breaker.retry_budget_allowance": 1 });
    const limited = spans.find((s) => s.name === "circuit breaker push: rejected (rate limit 1)");
    expect(limited?.attributes).toMatchObject({ "circuit_breaker.decision": "rejected_rate_limit", "circuit_breaker.rate_limit_used": 1, "circuit_breaker.rate_limit_calls": 1 });
    const fellBack = spans.filter((s) => s.name === "circuit breaker push: fallback cached");
    expect(fellBack).toHaveLength(2);
    expect(String(fellBack[1]?.attributes["circuit_breaker.fallback_reason"])).toMatch(/^circuit breaker "push" has admitted its 1 call\(s\) per 60 s \(rate_limit\)/);
  });
});
