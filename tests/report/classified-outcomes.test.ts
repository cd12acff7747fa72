import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../lib/core/policy.js";
import type { BreakerState } from "../../lib/core/state.js";
import { acquirePermit, recordOutcome } from "../../lib/protection/run-protected.js";
import { prometheusMetrics } from "../../lib/report/metrics.js";
import { historyTable, statusReport, statusTable } from "../../lib/report/status-report.js";
import { MemoryStateStore } from "../../lib/store/memory-store.js";

const T0 = Date.UTC(2026, 10, 30, 10, 0, 0);
const policy = { ...DEFAULT_POLICY, trip: { kind: "consecutive" as const, threshold: 2 }, resetTimeoutMs: 60_000, maxResetTimeoutMs: 300_000 };

/** A breaker with one neutral failure, then two counted ones, the last asking for 120 s. */
async function classified(): Promise<{ state: BreakerState; now: number }> {
  let now = T0;
  const store = new MemoryStateStore(() => now);
  const run = async (outcome: Parameters<typeof recordOutcome>[3]) => {
    const permit = await acquirePermit(store, "staging-api", policy, "x", 0);
    now += 1000;
    return recordOutcome(store, policy, permit, outcome);
  };
  await run({ ok: false, durationMs: 1, exitCode: 1, error: "unit tests failed", classified: { counts: false, rule: 'step "test" guarded: false' } });
  await run({ ok: false, durationMs: 1, exitCode: 7, error: "connection refused", classified: { counts: true, rule: 'workflow "release" failure_rules[0] (count)' } });
  const last = await run({
    ok: false,
    durationMs: 1,
    exitCode: 7,
    error: "503",
    classified: { counts: true, rule: 'workflow "release" failure_rules[0] (count)' },
    retryAfter: { ms: 120_000, source: '"Retry-After: 120" in the output of step "deploy"' },
  });
  return { state: last.state, now };
}

describe("what classified an outcome is visible", () => {
  it("in status JSON: the last counted and the last neutral failure with their rules, and the open time's source", async () => {
    const { state, now } = await classified();
    const [breaker] = statusReport([state], [], now).breakers;
    expect(breaker?.lastError).toMatchObject({ message: "503", rule: 'workflow "release" failure_rules[0] (count)' });
    expect(breaker?.lastNeutral).toEqual({ at: new Date(T0 + 1000).toISOString(), message: "unit tests failed", exitCode: 1, rule: 'step "test" guarded: false' });
    expect(breaker?.openTimeSource).toBe('"Retry-After: 120" in the output of step "deploy"');
  });

  it("in the status table and the history", async () => {
    const { state, now } = await classified();
    const table = statusTable([state], [], now).split("\n");
    expect(table).toContain('staging-api: last error counted by workflow "release" failure_rules[0] (count)');
    expect(table).toContain('staging-api: last neutral failure 2026-11-30T10:00:01Z (2s ago): unit tests failed [step "test" guarded: false]');
    expect(table).toContain('staging-api: open time from "Retry-After: 120" in the output of step "deploy"');
    const history = historyTable(state).split("\n");
    expect(history).toContain('last neutral failure 2026-11-30T10:00:01.000Z [step "test" guarded: false]: unit tests failed');
    expect(history).toContain('last counted failure 2026-11-30T10:00:03.000Z [workflow "release" failure_rules[0] (count)]: 503');
  });

  it("in the metrics, one series per breaker labelled with the rule", async () => {
    const { state, now } = await classified();
    const families = parsePrometheusTextFormat(prometheusMetrics([state], now)) as { name: string; metrics: { labels?: Record<string, string>; value: string }[] }[];
    const neutral = families.find((f) => f.name === "circuit_breaker_last_neutral_failure_timestamp_seconds");
    expect(neutral?.metrics).toEqual([{ labels: { breaker: "staging-api", rule: 'step "test" guarded: false' }, value: String((T0 + 1000) / 1000) }]);
    const ignored = families.find((f) => f.name === "circuit_breaker_calls_total")?.metrics.find((m) => m.labels?.outcome === "ignored");
    expect(ignored?.value).toBe("1");
  });
});
