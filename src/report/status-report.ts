import type { BreakerState } from "../core/state.js";
import { formatFailures, shorten, viewOf, type BreakerView } from "../core/view.js";
import type { StateProblem } from "../store/request.js";
import { renderTable } from "./table.js";

/** Version of the JSON `status` prints; bumped on any change that could break a reader. */
export const STATUS_JSON_VERSION = 1;

export interface StatusReport {
  version: typeof STATUS_JSON_VERSION;
  /** ISO time the report was made, by the state store's clock. */
  generatedAt: string;
  breakers: BreakerStatusJson[];
  /** Breakers whose state could not be read, with how to recover. */
  problems: StateProblem[];
}

export interface BreakerStatusJson {
  name: string;
  state: BreakerView["status"];
  failures: BreakerView["failures"];
  lastError: { at: string; message: string; exitCode: number | null } | null;
  openedAt: string | null;
  nextProbeAt: string | null;
  probesInFlight: number;
  maxProbes: number;
  counters: BreakerView["counters"];
  lastTransition: { at: string; from: string; to: string; reason: string } | null;
  updatedAt: string;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

function toJson(view: BreakerView): BreakerStatusJson {
  return {
    name: view.name,
    state: view.status,
    failures: view.failures,
    lastError: view.lastError && { ...view.lastError, at: new Date(view.lastError.at).toISOString() },
    openedAt: iso(view.openedAt),
    nextProbeAt: iso(view.nextProbeAt),
    probesInFlight: view.probesInFlight,
    maxProbes: view.maxProbes,
    counters: view.counters,
    lastTransition: view.lastTransition && { ...view.lastTransition, at: new Date(view.lastTransition.at).toISOString() },
    updatedAt: new Date(view.updatedAt).toISOString(),
  };
}

export function statusReport(states: BreakerState[], problems: StateProblem[], now: number): StatusReport {
  return {
    version: STATUS_JSON_VERSION,
    generatedAt: new Date(now).toISOString(),
    breakers: states.map((s) => toJson(viewOf(s, now))),
    problems,
  };
}

function time(at: number | null, now: number): string {
  if (at === null) return "-";
  const seconds = Math.round((at - now) / 1000);
  const relative = seconds >= 0 ? `in ${seconds}s` : `${-seconds}s ago`;
  return `${new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z")} (${relative})`;
}

/** The table a person reads at a glance. */
export function statusTable(states: BreakerState[], problems: StateProblem[], now: number): string {
  if (states.length === 0 && problems.length === 0) {
    return "no breakers yet: a breaker is created by its first protected call";
  }
  const rows = states.map((s) => {
    const v = viewOf(s, now);
    return [
      v.name,
      v.status,
      formatFailures(v),
      v.lastError ? shorten(v.lastError.message, 60) : "-",
      time(v.openedAt, now),
      v.status === "half-open" ? "now" : time(v.nextProbeAt, now),
      `${v.probesInFlight}/${v.maxProbes}`,
    ];
  });
  const table = renderTable(["BREAKER", "STATE", "FAILURES", "LAST ERROR", "OPENED AT", "NEXT PROBE", "PROBES"], rows);
  const notes = problems.map((p) => `! ${p.message}`);
  return [table, ...notes].join("\n");
}

export function historyTable(state: BreakerState): string {
  if (state.history.length === 0) return `breaker "${state.name}" has no transitions yet (it is ${state.status})`;
  return renderTable(
    ["AT", "FROM", "TO", "REASON"],
    state.history.map((t) => [new Date(t.at).toISOString(), t.from, t.to, t.reason]),
  );
}
