/**
 * Prometheus's own checks of observability/circuit-breaker.rules.yml: `promtool check rules`
 * (syntax, PromQL, templates) and `promtool test rules` (circuit-breaker.rules.test.yml: each
 * alert fires on synthetic series when it should and stays silent when it should not).
 * promtool comes from Debian's prometheus package, which .ci/run installs: without it these
 * tests are skipped locally, with the reason in their name, and fail in CI.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../lib/core/policy.js";
import { initialState } from "../../lib/core/state.js";
import { acquire, record } from "../../lib/core/transitions.js";
import { prometheusMetrics } from "../../lib/report/metrics.js";
import { everyFeature } from "../helpers/every-feature-states.js";

const dir = fileURLToPath(new URL("../../observability/", import.meta.url));
const installed = spawnSync("promtool", ["--version"], { encoding: "utf8" }).error === undefined;
const inCi = process.env.CI === "true";
const reason = installed ? "" : " (SKIPPED: promtool not found on PATH; apt-get install prometheus, as .ci/run does)";
// The default reporter counts skipped tests without naming them: say why where it shows.
if (!installed && !inCi) console.warn(`alert rules not checked by promtool${reason}`);

function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const run = spawnSync("promtool", args, { cwd: dir, encoding: "utf8", timeout: 60_000, ...(input === undefined ? {} : { input }) });
  return { status: run.status, output: `${run.stdout}${run.stderr}${run.error ? String(run.error) : ""}` };
}

describe("alert rules, by promtool", () => {
  it.runIf(!installed && inCi)("CI has promtool (.ci/run installs Debian's prometheus package)", () => {
    expect.fail("promtool is missing in CI: .ci/run should have installed the prometheus package");
  });

  it.skipIf(!installed)(`promtool check rules accepts the rules file${reason}`, () => {
    const run = promtool(["check", "rules", "circuit-breaker.rules.yml"]);
    expect(run.output).toContain("SUCCESS");
    expect(run.status, run.output).toBe(0);
  });

  it.skipIf(!installed)(`promtool test rules: every alert fires and stays silent as its unit tests say${reason}`, () => {
    const run = promtool(["test", "rules", "circuit-breaker.rules.test.yml"]);
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain("SUCCESS");
  });
});

/** A breaker whose last neutral failure was classified by a rule name with quotes, a backslash and a newline. */
function oddRuleLabel() {
  const at = Date.UTC(2026, 11, 4);
  const a = acquire(initialState("odd-rule", at), DEFAULT_POLICY, at, "n", { expectedDurationMs: 1_000, waitedMs: 0 });
  if (!a.decision.admitted) throw new Error("odd-rule: refused");
  const failure = { ok: false, durationMs: 1, exitCode: 1, error: "x", classified: { counts: false, rule: 'say "no" \\ then\nstop' } };
  return record(a.state, DEFAULT_POLICY, at, a.decision.permit, failure).state;
}

// The module writes Prometheus's text format itself (lib/report/metrics.ts) rather than through
// prom-client, whose registry is built for a process's own live metrics; Prometheus's own linter
// is what keeps the hand-written format and its label escaping honest.
describe("the metrics exposition, by promtool", () => {
  it.skipIf(!installed)(`promtool check metrics accepts it for every feature and an odd label value${reason}`, () => {
    const { states, now } = everyFeature();
    const text = prometheusMetrics([...states, oddRuleLabel()], now);
    expect(text).toContain('rule="say \\"no\\" \\\\ then\\nstop"');
    const run = promtool(["check", "metrics"], text);
    expect(run.status, run.output).toBe(0);
    expect(run.output.trim()).toBe("");
  });
});
