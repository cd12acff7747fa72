import { DEFAULT_POLICY, type BreakerMode, type BreakerPolicy, type TripPolicy } from "./policy.js";
import { rateLimitUse, retryBudgetUse, windowCounts } from "./window-use.js";
import type { BreakerState, Counters, LastError, Status, Transition } from "./state.js";
import { advance, type Decision } from "./transitions.js";

/** What a person or a program needs to know about one breaker right now. */
export interface BreakerView {
  name: string;
  status: Status;
  failures:
    | { kind: "consecutive"; count: number; threshold: number }
    | { kind: "failure-rate"; failures: number; calls: number; rate: number; threshold: number; windowSize: number; minimumCalls: number }
    | { kind: "time-failure-rate"; failures: number; calls: number; rate: number; threshold: number; windowMs: number; minimumCalls: number }
    | { kind: "failures-in-time"; failures: number; calls: number; threshold: number; windowMs: number };
  lastError: LastError | null;
  /** The latest failure recorded as neutral, with the rule that said it is not the dependency's. */
  lastIgnored: LastError | null;
  /** Where the open time came from when the dependency asked for it (Retry-After); null: the policy. */
  openTimeSource: string | null;
  /** When the breaker last left closed for open or forced-open; null while closed. */
  openedAt: number | null;
  /** When the next probe is admitted; null when closed, or forced open until reset. */
  nextProbeAt: number | null;
  probesInFlight: number;
  maxProbes: number;
  /** Half-open rounds in a row that ended open again (a probe failed or never reported) since the breaker last closed. */
  failedProbeRounds: number;
  /** Concurrency slots held by running calls, and the limit; null when there is no limit. */
  concurrency: { inUse: number; max: number } | null;
  /** Calls admitted in the rate limit's period, the limit, and when the next call can be admitted; null when there is no limit. */
  rateLimit: { used: number; max: number; periodMs: number; nextSlotAt: number } | null;
  /** Retries made and allowed in the budget's window, from its first attempts; null when retries are not limited. */
  retryBudget: { used: number; allowance: number; firstAttempts: number; windowMs: number } | null;
  mode: BreakerMode;
  counters: Counters;
  lastTransition: Transition | null;
  updatedAt: number;
}

/** The breaker as it stands at `now`, with time-based transitions applied (nothing is stored). */
export function viewOf(stored: BreakerState, now: number, policy?: BreakerPolicy): BreakerView {
  const used = policy ?? stored.policy ?? DEFAULT_POLICY;
  const state = advance(stored, used, now);
  const rate = used.rateLimit;
  const budget = used.retryBudget;
  const opened = [...state.history].reverse().find((t) => t.to === "open" || t.to === "forced-open");
  const nextProbeAt =
    state.status === "open"
      ? state.openUntil
      : state.status === "forced-open"
        ? state.forcedUntil
        : state.status === "half-open"
          ? now
          : null;
  return {
    name: state.name,
    status: state.status,
    failures: failuresOf(state, used.trip, now),
    lastError: state.lastError,
    lastIgnored: state.lastIgnored,
    openTimeSource: state.status === "open" ? state.openTimeSource : null,
    openedAt: state.status === "closed" || state.status === "disabled" ? null : (opened?.at ?? null),
    nextProbeAt,
    probesInFlight: state.probesInFlight.length,
    maxProbes: used.halfOpenMaxProbes,
    failedProbeRounds: state.reopenCount,
    concurrency: used.maxConcurrentCalls === null ? null : { inUse: state.leases.length, max: used.maxConcurrentCalls },
    rateLimit: rate === null ? null : { ...rateLimitUse(state, rate, now), max: rate.calls, periodMs: rate.periodMs },
    retryBudget: budget === null ? null : { ...retryBudgetUse(state, budget, now), windowMs: budget.windowMs },
    mode: used.mode,
    counters: state.counters,
    lastTransition: state.history.at(-1) ?? null,
    updatedAt: state.updatedAt,
  };
}

function failuresOf(state: BreakerState, trip: TripPolicy, now: number): BreakerView["failures"] {
  switch (trip.kind) {
    case "consecutive":
      return { kind: "consecutive", count: state.consecutiveFailures, threshold: trip.threshold };
    case "failure-rate": {
      const failed = state.window.filter(Boolean).length;
      const calls = state.window.length;
      const { rate: threshold, windowSize, minimumCalls } = trip;
      return { kind: "failure-rate", failures: failed, calls, rate: calls === 0 ? 0 : failed / calls, threshold, windowSize, minimumCalls };
    }
    case "time-failure-rate": {
      const { calls, failures } = windowCounts(state, trip.windowMs, now);
      const { rate: threshold, windowMs, minimumCalls } = trip;
      return { kind: "time-failure-rate", failures, calls, rate: calls === 0 ? 0 : failures / calls, threshold, windowMs, minimumCalls };
    }
    case "failures-in-time": {
      const { calls, failures } = windowCounts(state, trip.windowMs, now);
      return { kind: "failures-in-time", failures, calls, threshold: trip.threshold, windowMs: trip.windowMs };
    }
  }
}

export function formatFailures(view: BreakerView): string {
  const f = view.failures;
  switch (f.kind) {
    case "consecutive":
      return `${f.count}/${f.threshold} consecutive failures`;
    case "failure-rate":
      return `${Math.round(f.rate * 100)}% failed of ${f.calls} calls (threshold ${Math.round(f.threshold * 100)}%, min ${f.minimumCalls} calls)`;
    case "time-failure-rate":
      return `${Math.round(f.rate * 100)}% failed of ${f.calls} calls in the last ${Math.round(f.windowMs / 1000)} s (threshold ${Math.round(f.threshold * 100)}%, min ${f.minimumCalls} calls)`;
    case "failures-in-time":
      return `${f.failures}/${f.threshold} failures in the last ${Math.round(f.windowMs / 1000)} s`;
  }
}

export function shorten(text: string, max = 160): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function when(at: number, now: number): string {
  const seconds = Math.max(0, Math.ceil((at - now) / 1000));
  return `${new Date(at).toISOString()} (in ${seconds} s)`;
}

/** The message of a call the breaker refused. */
export function rejectionMessage(
  view: BreakerView,
  decision: Extract<Decision, { admitted: false }>,
  now: number,
  what: string,
): string {
  const parts = [`circuit breaker "${view.name}" ${decision.reason}, so ${what} was not run.`];
  parts.push(`Failures: ${formatFailures(view)}.`);
  if (view.lastError) parts.push(`Last error: ${shorten(view.lastError.message)}.`);
  if (view.openedAt !== null) parts.push(`Opened at ${new Date(view.openedAt).toISOString()}.`);
  parts.push(
    decision.retryAt === null
      ? `It stays open until reset: run \`reset --breaker ${view.name}\`.`
      : `Next probe allowed at ${when(decision.retryAt, now)}${view.openTimeSource === null ? "" : `, as the service asked (${view.openTimeSource})`}.`,
  );
  return parts.join(" ");
}

/** The message of a call refused because every concurrency slot, or the rate limit's period, stayed full. */
export function limitMessage(
  breaker: string,
  decision: Extract<Decision, { admitted: false }>,
  now: number,
  what: string,
  waitedMs: number,
): string {
  const waited = waitedMs > 0 ? ` after waiting ${Math.round(waitedMs / 1000)} s (queue_timeout)` : "";
  const parts = [`circuit breaker "${breaker}" ${decision.reason}, so ${what} was not run${waited}.`];
  const rate = decision.rateLimit;
  if (rate !== undefined) {
    parts.push(`${rate.used} of ${rate.max} calls of the last ${Math.round(rate.periodMs / 1000)} s are used.`);
    if (decision.retryAt !== null) parts.push(`The next slot frees at ${when(decision.retryAt, now)}.`);
  } else {
    if (decision.limit) parts.push(`${decision.limit.inUse} of ${decision.limit.max} slots are in use.`);
    parts.push(
      decision.retryAt === null
        ? "No slot has a deadline."
        : `The earliest slot is freed by ${when(decision.retryAt, now)} at the latest, sooner if its call ends.`,
    );
  }
  parts.push("This is not a failure of the service and does not count against the breaker; set or raise queue_timeout to wait for a slot.");
  return parts.join(" ");
}
