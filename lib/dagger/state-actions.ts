import { dag, type File, type Secret } from "@dagger.io/dagger";
import type { StateCalls } from "../../src/module-api.js";
import { parseDuration } from "../core/duration.js";
import { validateBreakerName } from "../core/names.js";
import { stateOf } from "../protection/run-protected.js";
import { noBreakerMatches, validateBreakerPrefix, withPrefix } from "../report/breaker-prefix.js";
import { prometheusMetrics } from "../report/metrics.js";
import { pruneTable } from "../report/prune-report.js";
import { statusMarkdown } from "../report/status-markdown.js";
import { historyTable, statusReport, statusTable } from "../report/status-report.js";
import type { StateStore } from "../store/state-store.js";
import { withStateStore } from "./state-store-choice.js";

export async function status(store: StateStore, breaker: string | null, format: string, prefix: string | null = null): Promise<string> {
  if (format !== "table" && format !== "json" && format !== "markdown") {
    throw new Error(`--format must be "table", "json" or "markdown", got ${JSON.stringify(format)}`);
  }
  if (breaker !== null && prefix !== null) {
    throw new Error("give --breaker or --prefix, not both: --breaker shows one breaker, --prefix every breaker whose name starts with it");
  }
  if (breaker !== null) validateBreakerName(breaker);
  if (prefix !== null) validateBreakerPrefix(prefix);
  const response = await store.apply({ op: "read", breakers: breaker === null ? null : [breaker] });
  if (breaker !== null && response.states.length === 0 && response.problems.length === 0) {
    throw new Error(`no breaker named "${breaker}" in ${store.description} yet: a breaker is created by its first protected call`);
  }
  const { states, problems } = prefix === null ? response : withPrefix(response, prefix);
  if (format === "json") return JSON.stringify(statusReport(states, problems, response.now), null, 2);
  if (format === "markdown") return statusMarkdown(states, problems, response.now, prefix);
  if (prefix !== null && states.length === 0 && problems.length === 0) {
    return noBreakerMatches(prefix, response.states.length + response.problems.length, store.description);
  }
  return statusTable(states, problems, response.now);
}

export async function history(store: StateStore, breaker: string): Promise<string> {
  validateBreakerName(breaker);
  const response = await store.apply({ op: "read", breakers: [breaker] });
  if (response.states.length === 0 && response.problems.length === 0) {
    throw new Error(`no breaker named "${breaker}" in ${store.description} yet`);
  }
  return historyTable(stateOf(response, breaker));
}

/** The breaker's history as an SVG document, drawn as of the store's clock. */
export async function historyChart(store: StateStore, breaker: string): Promise<string> {
  validateBreakerName(breaker);
  const response = await store.apply({ op: "read", breakers: [breaker] });
  if (response.states.length === 0 && response.problems.length === 0) {
    throw new Error(`no breaker named "${breaker}" in ${store.description} yet`);
  }
  // Loaded only when a chart is asked for, so status and metrics do not pay for it.
  const { historyChartSvg } = await import("../report/history-chart.js");
  return historyChartSvg(stateOf(response, breaker), response.now);
}

export async function control(
  store: StateStore,
  op: "reset" | "trip" | "disable",
  breaker: string,
  durationSeconds: number | null = null,
  alerting: ControlAlerting | null = null,
): Promise<string> {
  validateBreakerName(breaker);
  if (durationSeconds !== null && !(Number.isInteger(durationSeconds) && durationSeconds > 0)) {
    throw new Error(`--duration must be a whole number of seconds >= 1, got ${durationSeconds}`);
  }
  // The config and its alert are checked before the state changes; loaded only when asked for.
  const alert = alerting === null ? null : await (await import("./control-alerts.js")).prepareManualAlert(alerting.config, alerting.secrets, breaker);
  const response =
    op === "trip"
      ? await store.apply({ op, breaker, policy: null, durationMs: durationSeconds === null ? null : durationSeconds * 1000 })
      : await store.apply({ op, breaker, policy: null });
  const state = stateOf(response, breaker);
  const table = statusTable([state], [], response.now);
  if (alert === null) return table;
  const warnings = await alert.send(breaker, response.transitions ?? [], state.lastError);
  return [table, ...warnings.map((w) => `warning: ${w}`)].join("\n");
}

/** Where `trip` and `reset` find the alert to run for the transition they make. */
export interface ControlAlerting {
  config: File;
  secrets: Secret[];
}

/** `--unused-for` in milliseconds; anything but one strict duration is the caller's mistake. */
export function parseUnusedFor(text: string): number {
  const ms = parseDuration(text);
  if (ms === null) {
    throw new Error(
      `--unused-for must be a whole number followed by s, m, h or d, e.g. --unused-for=30d (or 12h, 90m, 45s), got ${JSON.stringify(text)}`,
    );
  }
  return ms;
}

/** Removes breakers unused for longer than `unusedFor` (`30d`), or with `dryRun` says which it would remove. */
export async function prune(store: StateStore, unusedFor: string, dryRun: boolean): Promise<string> {
  const unusedForMs = parseUnusedFor(unusedFor);
  const response = await store.apply({ op: "prune", unusedForMs, dryRun });
  if (!response.prune) throw new Error(`${store.description} answered a prune without saying what it removed; nothing is known to be removed`);
  return pruneTable(response.prune, response.problems, response.now, unusedFor, store.description);
}

export async function metrics(store: StateStore, prefix: string | null = null): Promise<string> {
  if (prefix !== null) validateBreakerPrefix(prefix);
  const response = await store.apply({ op: "read", breakers: null });
  return prometheusMetrics(prefix === null ? response.states : withPrefix(response, prefix).states, response.now);
}

/** Reading and operating breakers, for the module's face; nothing here loads a config. */
const calls: StateCalls = {
  metrics: (choice, prefix) => withStateStore(choice, (store) => metrics(store, prefix)),
  status: (choice, breaker, format, prefix) => withStateStore(choice, (store) => status(store, breaker, format, prefix)),
  history: (choice, breaker) => withStateStore(choice, (store) => history(store, breaker)),
  historyChart: async (choice, breaker) => {
    const svg = await withStateStore(choice, (store) => historyChart(store, breaker));
    // A file made from text, as the engine keeps it; the name is a valid breaker name by now.
    return dag.file(`${breaker}-history.svg`, svg);
  },
  control: (choice, op, breaker, duration, config = null, secrets = []) =>
    withStateStore(choice, (store) => control(store, op, breaker, duration, config === null ? null : { config, secrets })),
  prune: async (choice, unusedFor, dryRun) => {
    // Also before a store is opened, so a typo does not start a Redis service first.
    parseUnusedFor(unusedFor);
    return withStateStore(choice, (store) => prune(store, unusedFor, dryRun));
  },
};
export default calls;
