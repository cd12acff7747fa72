import type { BreakerState, LastError } from "../core/state.js";
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
  /** The last failure that counted, and the rule that classified it. */
  lastError: OutcomeJson | null;
  /** The last failure recorded as neutral (an unguarded step, an ignore rule), and the rule that said so. */
  lastNeutral: OutcomeJson | null;
  /** Where the current open time came from when the failing service asked for it (Retry-After). */
  openTimeSource: string | null;
  openedAt: string | null;
  nextProbeAt: string | null;
  probesInFlight: number;
  maxProbes: number;
  /** Concurrency slots held by running calls and the limit (max_concurrent_calls); null when there is no limit. */
  concurrency: BreakerView["concurrency"];
  /** Calls admitted in the rate limit's period, the limit and when the next call can be admitted; null when there is no rate_limit. */
  rateLimit: { used: number; max: number; periodSeconds: number; nextSlotAt: string } | null;
  /** Retries made and allowed in the retry budget's window, from its first attempts; null when there is no retry_budget. */
  retryBudget: { used: number; allowance: number; firstAttempts: number; windowSeconds: number } | null;
  /** enforce, or observe (nothing refused; counters.wouldHaveRejected counts what would have been). */
  mode: BreakerView["mode"];
  counters: BreakerView["counters"];
  lastTransition: { at: string; from: string; to: string; reason: string } | null;
  updatedAt: string;
  /** When the breaker was last used (acquire, record, cancel, reset, trip, disable): what `prune --unused-for` judges. */
  lastUsedAt: string;
}

export interface OutcomeJson {
  at: string;
  message: string;
  exitCode: number | null;
  rule: string | null;
}

const outcomeJson = (e: LastError | null): OutcomeJson | null => e && { ...e, at: new Date(e.at).toISOString() };

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

function toJson(view: BreakerView): BreakerStatusJson {
  return {
    name: view.name,
    state: view.status,
    failures: view.failures,
    lastError: outcomeJson(view.lastError),
    lastNeutral: outcomeJson(view.lastIgnored),
    openTimeSource: view.openTimeSource,
    openedAt: iso(view.openedAt),
    nextProbeAt: iso(view.nextProbeAt),
    probesInFlight: view.probesInFlight,
    maxProbes: view.maxProbes,
    concurrency: view.concurrency,
    rateLimit:
      view.rateLimit === null
        ? null
        : { used: view.rateLimit.used, max: view.rateLimit.max, periodSeconds: view.rateLimit.periodMs / 1000, nextSlotAt: new Date(view.rateLimit.nextSlotAt).toISOString() },
    retryBudget:
      view.retryBudget === null
        ? null
        : {
            used: view.retryBudget.used,
            allowance: view.retryBudget.allowance,
            firstAttempts: view.retryBudget.firstAttempts,
            windowSeconds: view.retryBudget.windowMs / 1000,
          },
    mode: view.mode,
    counters: view.counters,
    lastTransition: view.lastTransition && { ...view.lastTransition, at: new Date(view.lastTransition.at).toISOString() },
    updatedAt: new Date(view.updatedAt).toISOString(),
    lastUsedAt: new Date(view.updatedAt).toISOString(),
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
  const views = states.map((s) => viewOf(s, now));
  const rows = views.map((v) => [
    v.name,
    v.status,
    formatFailures(v),
    v.lastError ? shorten(v.lastError.message, 60) : "-",
    time(v.openedAt, now),
    v.status === "half-open" ? "now" : time(v.nextProbeAt, now),
    `${v.probesInFlight}/${v.maxProbes}`,
    time(v.updatedAt, now),
  ]);
  const table = renderTable(["BREAKER", "STATE", "FAILURES", "LAST ERROR", "OPENED AT", "NEXT PROBE", "PROBES", "LAST USED"], rows);
  const classified = states.flatMap((s, i) => [...outcomeNotes(s, now), ...controlNotes(views[i] as BreakerView, now)]);
  const notes = problems.map((p) => `! ${p.message}`);
  return [table, ...classified, ...notes].join("\n");
}

/** What classified the last counted and the last neutral failure, and where an open time came from. */
function outcomeNotes(state: BreakerState, now: number): string[] {
  const notes: string[] = [];
  const e = state.lastError;
  if (e?.rule) notes.push(`${state.name}: last error counted by ${e.rule}`);
  const n = state.lastIgnored;
  if (n) notes.push(`${state.name}: last neutral failure ${time(n.at, now)}: ${shorten(n.message, 80)} [${n.rule ?? "ignored"}]`);
  if (state.status === "open" && state.openTimeSource) notes.push(`${state.name}: open time from ${state.openTimeSource}`);
  return notes;
}

/** The concurrency and rate limits' use, the retry budget, fallbacks and observe mode's tally, when the breaker has them. */
function controlNotes(v: BreakerView, now: number): string[] {
  const notes: string[] = [];
  const c = v.counters;
  if (v.concurrency !== null) {
    const waited = c.queuedCalls === 0 ? "" : `; ${c.queuedCalls} call(s) waited, ${(c.queueWaitMs / c.queuedCalls / 1000).toFixed(1)} s on average`;
    notes.push(
      `${v.name}: ${v.concurrency.inUse}/${v.concurrency.max} concurrency slots in use${waited}; ${c.limitRefusals} refused for the limit, ${c.expiredLeases} slot(s) freed at their deadline`,
    );
  }
  if (v.rateLimit !== null) {
    const r = v.rateLimit;
    const next = r.used < r.max ? "a slot is free" : `next slot ${time(r.nextSlotAt, now)}`;
    notes.push(`${v.name}: rate limit ${r.used}/${r.max} calls in the last ${r.periodMs / 1000} s, ${next}; ${c.rateLimitRefusals} refused for the limit`);
  }
  if (v.retryBudget !== null) {
    const b = v.retryBudget;
    notes.push(
      `${v.name}: retry budget ${b.used}/${b.allowance} retries in the last ${b.windowMs / 1000} s (from ${b.firstAttempts} first attempts); ${c.retries} retried, ${c.retryBudgetRefusals} refused`,
    );
  }
  if (c.fallbacks > 0) notes.push(`${v.name}: ${c.fallbacks} call(s) ran their fallback instead`);
  if (v.mode === "observe" || c.wouldHaveRejected > 0) {
    notes.push(`${v.name}: ${v.mode === "observe" ? "observe mode, nothing refused" : "enforcing now"}; ${c.wouldHaveRejected} call(s) would have been rejected`);
  }
  return notes;
}

export function historyTable(state: BreakerState): string {
  const table =
    state.history.length === 0
      ? `breaker "${state.name}" has no transitions yet (it is ${state.status})`
      : renderTable(["AT", "FROM", "TO", "REASON"], state.history.map((t) => [new Date(t.at).toISOString(), t.from, t.to, t.reason]));
  const lines = [table];
  const e = state.lastError;
  if (e) lines.push(`last counted failure ${new Date(e.at).toISOString()} [${e.rule ?? "default"}]: ${shorten(e.message, 120)}`);
  const n = state.lastIgnored;
  if (n) lines.push(`last neutral failure ${new Date(n.at).toISOString()} [${n.rule ?? "ignored"}]: ${shorten(n.message, 120)}`);
  return lines.join("\n");
}
