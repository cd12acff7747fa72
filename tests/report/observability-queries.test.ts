import { readFileSync } from "node:fs";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { prometheusMetrics } from "../../lib/report/metrics.js";
import { everyFeature } from "../helpers/every-feature-states.js";
import { addRecordingRule, checkQuery, knownFromFamilies, type KnownSeries, type ParsedFamily } from "../helpers/promql-names.js";

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
