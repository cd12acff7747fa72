import { readFileSync } from "node:fs";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { DEFAULT_POLICY, type BreakerPolicy } from "../../lib/core/policy.js";
import { initialState, type BreakerState } from "../../lib/core/state.js";
import { acquire, advance, cancel, disable, record, trip } from "../../lib/core/transitions.js";
import { prometheusMetrics } from "../../lib/report/metrics.js";
import { addRecordingRule, checkQuery, knownFromFamilies, type KnownSeries, type ParsedFamily } from "../helpers/promql-names.js";

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
 * waits and refusals, observe mode, and a failure-rate trip.
 */
function everyFeature(): { states: BreakerState[]; now: number } {
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
  const forced = trip(initialState("forced", T0), DEFAULT_POLICY, T0, null);
  const off = disable(initialState("off", T0), DEFAULT_POLICY, T0);
  return { states: [probing, mixed, slots, watched, rated, forced, off, initialState("idle", T0)], now: t };
}

function emitted(): { families: ParsedFamily[]; text: string } {
  const { states, now } = everyFeature();
  const text = prometheusMetrics(states, now);
  return { families: parsePrometheusTextFormat(text) as ParsedFamily[], text };
}

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
}

const rulesFile = new URL("../../observability/circuit-breaker.rules.yml", import.meta.url);
const dashboardFile = new URL("../../observability/circuit-breaker.dashboard.json", import.meta.url);

/** Rule expressions in file order, each with the recording rules before it already known. */
function checkRules(known: KnownSeries): string[] {
  const file = parseYaml(readFileSync(rulesFile, "utf8")) as { groups: { name: string; rules: Rule[] }[] };
  const problems: string[] = [];
  for (const group of file.groups) {
    for (const rule of group.rules) {
      const names = checkQuery(rule.expr, known);
      problems.push(...names.problems.map((p) => `rules ${group.name} ${rule.record ?? rule.alert}: ${p}`));
      if (rule.record) addRecordingRule(known, rule.record, names);
    }
  }
  return problems;
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

/** Grafana fills these in before the query reaches Prometheus; any other `$` is a bug. */
const grafanaIntervals = (query: string) => query.replace(/\$(__rate_interval|__interval|__range)\b|\$\{(__rate_interval|__interval|__range)\}/g, "5m");

function dashboardQueries(): { where: string; query: string }[] {
  const dashboard = JSON.parse(readFileSync(dashboardFile, "utf8")) as { panels: Panel[]; templating: { list: { name: string; type: string; query?: string }[] } };
  const out: { where: string; query: string }[] = [];
  const walk = (panels: Panel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) out.push({ where: `panel ${JSON.stringify(p.title)}`, query: grafanaIntervals(t.expr ?? "") });
      walk(p.panels ?? []);
    }
  };
  walk(dashboard.panels);
  for (const v of dashboard.templating.list) {
    if (v.type !== "query" || !v.query) continue;
    // label_values(selector, label) is Grafana's; its selector is PromQL, and so is the label.
    const m = /^label_values\((.*),\s*(\w+)\)$/.exec(v.query);
    out.push({ where: `variable ${v.name}`, query: m ? `count by (${m[2]}) (${m[1]})` : v.query });
  }
  return out;
}

function checkDashboard(known: KnownSeries): string[] {
  return dashboardQueries().flatMap(({ where, query }) => checkQuery(query, known).problems.map((p) => `dashboard ${where}: ${p}`));
}

describe("alert rules and dashboard name only what metrics emits", () => {
  it("the states used exercise every metric metrics emits", () => {
    const { families, text } = emitted();
    const declared = Array.from(text.matchAll(/^# TYPE (\S+)/gm), (m) => m[1]);
    expect(declared.length).toBeGreaterThan(10);
    for (const name of declared) expect(families.find((f) => f.name === name)?.metrics.length, name).toBeGreaterThan(0);
    const known = knownFromFamilies(families);
    expect([...(known.get("circuit_breaker_calls_total")?.get("outcome") ?? [])].sort()).toEqual(["cancelled", "expired", "failure", "ignored", "success"]);
    expect(text).toMatch(/circuit_breaker_calls_total\{breaker="mixed",outcome="expired"\} 1/);
    expect(text).toContain('circuit_breaker_failed_probe_rounds{breaker="probing"} 2');
    expect(text).toContain('circuit_breaker_state{breaker="probing",state="half-open"} 1');
    expect(text).toContain('circuit_breaker_probes_in_flight{breaker="probing"} 1');
  });

  it("every rule expression names only emitted metrics, labels and values", () => {
    expect(checkRules(knownFromFamilies(emitted().families))).toEqual([]);
  });

  it("every dashboard query names only emitted metrics, recording rules, labels and values", () => {
    const known = knownFromFamilies(emitted().families);
    checkRules(known);
    expect(dashboardQueries().length).toBeGreaterThan(10);
    expect(checkDashboard(known)).toEqual([]);
  });

  it("reports a query that does not parse, or names a metric, label or value nobody emits", () => {
    const known = knownFromFamilies(emitted().families);
    expect(checkQuery("rate(circuit_breaker_calls_total[5m]", known).problems[0]).toMatch(/does not parse/);
    expect(checkQuery("circuit_breaker_call_total", known).problems).toEqual(["metric circuit_breaker_call_total is not emitted"]);
    expect(checkQuery('circuit_breaker_state{breaker="x", status="open"}', known).problems).toEqual(["circuit_breaker_state has no label status"]);
    expect(checkQuery('circuit_breaker_state{state=~"open|halfopen"}', known).problems).toEqual(['circuit_breaker_state{state} is never "halfopen"']);
    expect(checkQuery("sum by (job) (circuit_breaker_probes_total)", known).problems).toEqual(["groups by job, which no metric of the query has"]);
    expect(checkQuery("circuit_breaker:not_closed == 1", known).problems).toEqual(["metric circuit_breaker:not_closed is not emitted"]);
    expect(checkQuery("rate(circuit_breaker_calls_total[$__rate_interval])", known).problems[0]).toMatch(/does not parse/);
  });

  it("the dashboard is importable: a datasource variable, the prefix variable, and every panel on it", () => {
    const dashboard = JSON.parse(readFileSync(dashboardFile, "utf8")) as {
      uid: string;
      templating: { list: { name: string; type: string }[] };
      panels: { type: string; datasource?: { uid: string }; targets?: { expr: string; datasource: { uid: string } }[] }[];
    };
    expect(dashboard.uid).toBe("circuit-breaker");
    expect(dashboard.templating.list.map((v) => `${v.name}:${v.type}`)).toEqual(["datasource:datasource", "prefix:textbox"]);
    expect(dashboard.panels.map((p) => p.type)).toContain("state-timeline");
    for (const p of dashboard.panels.filter((p) => p.targets)) {
      expect(p.datasource?.uid).toBe("${datasource}");
      for (const t of p.targets ?? []) {
        expect(t.datasource.uid).toBe("${datasource}");
        expect(t.expr).toContain("breaker=~`${prefix:regex}.*`");
      }
    }
    expect(readFileSync(dashboardFile, "utf8")).not.toMatch(/https?:\/\//);
  });
});
