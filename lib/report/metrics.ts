import type { BreakerState, Status } from "../core/state.js";
import { viewOf } from "../core/view.js";

/**
 * Breaker counters in the Prometheus text exposition format (version 0.0.4), for a
 * Pushgateway or node-exporter's textfile collector. Counters are lifetime totals kept in the
 * breaker state, so they only reset when the state is deleted.
 */

const STATUSES: Status[] = ["closed", "open", "half-open", "forced-open", "disabled"];

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labels(pairs: Record<string, string>): string {
  return `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(",")}}`;
}

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge";
  samples: { labels: Record<string, string>; value: number }[];
}

export function prometheusMetrics(states: BreakerState[], now: number): string {
  const families: Family[] = [
    { name: "circuit_breaker_calls_total", help: "Admitted calls by how they ended.", type: "counter", samples: [] },
    { name: "circuit_breaker_rejections_total", help: "Calls refused without running.", type: "counter", samples: [] },
    { name: "circuit_breaker_probes_total", help: "Half-open probes admitted.", type: "counter", samples: [] },
    { name: "circuit_breaker_transitions_total", help: "State changes.", type: "counter", samples: [] },
    { name: "circuit_breaker_state", help: "1 for the breaker's current state, 0 for the others.", type: "gauge", samples: [] },
    { name: "circuit_breaker_consecutive_failures", help: "Failures in a row counted while closed.", type: "gauge", samples: [] },
    { name: "circuit_breaker_probes_in_flight", help: "Probes admitted and not yet reported.", type: "gauge", samples: [] },
    {
      name: "circuit_breaker_failed_probe_rounds",
      help: "Half-open rounds in a row that ended open again (a probe failed or never reported) since the breaker last closed.",
      type: "gauge",
      samples: [],
    },
    {
      name: "circuit_breaker_next_probe_timestamp_seconds",
      help: "Unix time when an open breaker admits its next probe; 0 when not waiting.",
      type: "gauge",
      samples: [],
    },
    {
      name: "circuit_breaker_last_neutral_failure_timestamp_seconds",
      help: "Unix time of the last failure recorded as neutral, labelled with the rule that classified it (one series per breaker).",
      type: "gauge",
      samples: [],
    },
    { name: "circuit_breaker_concurrency_slots_in_use", help: "Concurrency slots held by running calls (breakers with max_concurrent_calls only).", type: "gauge", samples: [] },
    { name: "circuit_breaker_concurrency_limit", help: "max_concurrent_calls (breakers with a limit only).", type: "gauge", samples: [] },
    { name: "circuit_breaker_concurrency_refusals_total", help: "Calls refused because every concurrency slot stayed taken; not failures.", type: "counter", samples: [] },
    { name: "circuit_breaker_queue_wait_seconds_total", help: "Time admitted calls spent waiting for a concurrency slot.", type: "counter", samples: [] },
    { name: "circuit_breaker_queued_calls_total", help: "Admitted calls that waited for a concurrency slot.", type: "counter", samples: [] },
    { name: "circuit_breaker_would_have_rejected_total", help: "Calls observe mode let through that enforce mode would have refused.", type: "counter", samples: [] },
    { name: "circuit_breaker_window_calls", help: "Outcomes in the trip window (failure_rate or failure_count breakers only).", type: "gauge", samples: [] },
    { name: "circuit_breaker_window_failures", help: "Failures in the trip window (failure_rate or failure_count breakers only).", type: "gauge", samples: [] },
    { name: "circuit_breaker_rate_limit_calls", help: "Calls admitted in the rate limit's current period (breakers with rate_limit only).", type: "gauge", samples: [] },
    { name: "circuit_breaker_rate_limit", help: "rate_limit calls per period (breakers with rate_limit only).", type: "gauge", samples: [] },
    { name: "circuit_breaker_rate_limit_refusals_total", help: "Calls refused because the rate limit's period was full; not failures.", type: "counter", samples: [] },
    { name: "circuit_breaker_retries_total", help: "Retries the retry budget allowed (breakers with retry_budget only).", type: "counter", samples: [] },
    { name: "circuit_breaker_retry_budget_refusals_total", help: "Retries not made because the fleet's retry budget was spent.", type: "counter", samples: [] },
    { name: "circuit_breaker_retry_budget_remaining", help: "Retries the budget still allows in its window (breakers with retry_budget only).", type: "gauge", samples: [] },
    { name: "circuit_breaker_fallbacks_total", help: "Refused or failed calls whose caller ran the workflow's fallback instead.", type: "counter", samples: [] },
  ];
  const [calls, rejections, probes, transitions, state, consecutive, inFlight, failedRounds, nextProbe, neutral, slots, limit, limitRefusals, waitSeconds, queued, wouldHave] =
    families as [Family, Family, Family, Family, Family, Family, Family, Family, Family, Family, Family, Family, Family, Family, Family, Family];
  const [windowCalls, windowFailures, rateCalls, rateLimit, rateRefusals, retries, retryRefusals, retryRemaining, fallbacks] = families.slice(16) as [
    Family,
    Family,
    Family,
    Family,
    Family,
    Family,
    Family,
    Family,
    Family,
  ];
  for (const stored of states) {
    const v = viewOf(stored, now);
    const breaker = v.name;
    const c = v.counters;
    const outcomes: Record<string, number> = {
      success: c.successes,
      failure: c.failures,
      ignored: c.ignored,
      cancelled: c.cancelled,
      expired: c.expiredProbes,
    };
    for (const [outcome, value] of Object.entries(outcomes)) calls.samples.push({ labels: { breaker, outcome }, value });
    rejections.samples.push({ labels: { breaker }, value: c.rejections });
    probes.samples.push({ labels: { breaker }, value: c.probes });
    transitions.samples.push({ labels: { breaker }, value: c.stateChanges });
    for (const s of STATUSES) state.samples.push({ labels: { breaker, state: s }, value: v.status === s ? 1 : 0 });
    consecutive.samples.push({ labels: { breaker }, value: v.failures.kind === "consecutive" ? v.failures.count : 0 });
    inFlight.samples.push({ labels: { breaker }, value: v.probesInFlight });
    failedRounds.samples.push({ labels: { breaker }, value: v.failedProbeRounds });
    const waiting = v.status === "open" || v.status === "forced-open";
    nextProbe.samples.push({ labels: { breaker }, value: waiting && v.nextProbeAt !== null ? v.nextProbeAt / 1000 : 0 });
    if (v.concurrency !== null) {
      slots.samples.push({ labels: { breaker }, value: v.concurrency.inUse });
      limit.samples.push({ labels: { breaker }, value: v.concurrency.max });
    }
    limitRefusals.samples.push({ labels: { breaker }, value: c.limitRefusals });
    waitSeconds.samples.push({ labels: { breaker }, value: c.queueWaitMs / 1000 });
    queued.samples.push({ labels: { breaker }, value: c.queuedCalls });
    wouldHave.samples.push({ labels: { breaker }, value: c.wouldHaveRejected });
    if (v.failures.kind !== "consecutive") {
      windowCalls.samples.push({ labels: { breaker }, value: v.failures.calls });
      windowFailures.samples.push({ labels: { breaker }, value: v.failures.failures });
    }
    if (v.rateLimit !== null) {
      rateCalls.samples.push({ labels: { breaker }, value: v.rateLimit.used });
      rateLimit.samples.push({ labels: { breaker }, value: v.rateLimit.max });
    }
    rateRefusals.samples.push({ labels: { breaker }, value: c.rateLimitRefusals });
    retryRefusals.samples.push({ labels: { breaker }, value: c.retryBudgetRefusals });
    if (v.retryBudget !== null) {
      retries.samples.push({ labels: { breaker }, value: c.retries });
      retryRemaining.samples.push({ labels: { breaker }, value: Math.max(0, v.retryBudget.allowance - v.retryBudget.used) });
    }
    fallbacks.samples.push({ labels: { breaker }, value: c.fallbacks });
    if (v.lastIgnored) neutral.samples.push({ labels: { breaker, rule: v.lastIgnored.rule ?? "ignored" }, value: v.lastIgnored.at / 1000 });
  }
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) lines.push(`${f.name}${labels(s.labels)} ${s.value}`);
  }
  return `${lines.join("\n")}\n`;
}
