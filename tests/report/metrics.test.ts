import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../lib/core/policy.js";
import { parseState } from "../../lib/core/serialize.js";
import { acquirePermit, recordOutcome } from "../../lib/protection/run-protected.js";
import { prometheusMetrics } from "../../lib/report/metrics.js";
import { MemoryStateStore } from "../../lib/store/memory-store.js";

type Family = { name: string; type: string; metrics: { labels?: Record<string, string>; value: string }[] };

function value(families: Family[], name: string, labels: Record<string, string>): number {
  const family = families.find((f) => f.name === name);
  const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (!sample) throw new Error(`no sample ${name}${JSON.stringify(labels)}`);
  return Number(sample.value);
}

describe("metrics", () => {
  it("parses as Prometheus text and matches the state after a scripted series of calls", async () => {
    let now = Date.UTC(2026, 10, 28, 10, 0, 0);
    const store = new MemoryStateStore(() => now);
    const policy = { ...DEFAULT_POLICY, trip: { kind: "consecutive" as const, threshold: 3 } };
    const call = async (breaker: string, ok: boolean) => {
      try {
        const permit = await acquirePermit(store, breaker, policy, "x", 0);
        await recordOutcome(store, policy, permit, { ok, durationMs: 1, exitCode: ok ? null : 1 });
      } catch {
        // rejected: counted by the breaker
      }
    };
    for (const ok of [true, true, false, false, false, false, false]) await call("deploy-api", ok);
    for (const ok of [true, false, true]) await call('weird"name\\x', ok);
    now += 1000;

    const text = prometheusMetrics((await store.apply({ op: "read", breakers: null })).states, now);
    const families = parsePrometheusTextFormat(text) as Family[];
    const api = { breaker: "deploy-api" };
    expect(value(families, "circuit_breaker_calls_total", { ...api, outcome: "success" })).toBe(2);
    expect(value(families, "circuit_breaker_calls_total", { ...api, outcome: "failure" })).toBe(3);
    expect(value(families, "circuit_breaker_rejections_total", api)).toBe(2);
    expect(value(families, "circuit_breaker_transitions_total", api)).toBe(1);
    expect(value(families, "circuit_breaker_state", { ...api, state: "open" })).toBe(1);
    expect(value(families, "circuit_breaker_state", { ...api, state: "closed" })).toBe(0);
    const state = parseState(store.texts.get("deploy-api") ?? "", "deploy-api");
    expect(value(families, "circuit_breaker_next_probe_timestamp_seconds", api)).toBe((state.openUntil ?? 0) / 1000);
    // Label values are escaped, and read back unchanged by an independent parser.
    expect(value(families, "circuit_breaker_calls_total", { breaker: 'weird"name\\x', outcome: "success" })).toBe(2);
    expect(families.find((f) => f.name === "circuit_breaker_state")?.type).toBe("GAUGE");
    expect(families.find((f) => f.name === "circuit_breaker_calls_total")?.type).toBe("COUNTER");
    expect(text.endsWith("\n")).toBe(true);
  });
});
