import { SpanStatusCode, type Attributes } from "@opentelemetry/api";
import { getTracer } from "@dagger.io/dagger/telemetry";
import type { BreakerEvent, BreakerObserver } from "../protection/observer.js";

const iso = (t: number | null) => (t === null ? "" : new Date(t).toISOString());

/** The events drawn as spans; a transition is already drawn by the record or acquire that made it. */
type SpanEvent = Exclude<BreakerEvent, { kind: "transition" }>;

/** The attributes every breaker span carries, so a trace view can filter on them. */
export function spanAttributes(event: SpanEvent): Attributes {
  const base: Attributes = { "circuit_breaker.name": event.breaker, "circuit_breaker.state": event.status };
  switch (event.kind) {
    case "admitted":
      return {
        ...base,
        "circuit_breaker.decision": event.wouldHaveRejected === null ? "admitted" : "would_have_rejected",
        "circuit_breaker.probe": event.permit.probe,
        "circuit_breaker.permit": event.permit.id,
        "circuit_breaker.queue_wait_ms": event.waitedMs,
        ...(event.slotsInUse === null ? {} : { "circuit_breaker.slots_in_use": event.slotsInUse }),
        ...(event.wouldHaveRejected === null ? {} : { "circuit_breaker.would_have_rejected": event.wouldHaveRejected }),
      };
    case "rejected":
      return {
        ...base,
        "circuit_breaker.decision": event.limit !== null ? "rejected_concurrency_limit" : event.rateLimit !== null ? "rejected_rate_limit" : "rejected",
        "circuit_breaker.reason": event.reason,
        "circuit_breaker.next_probe_at": iso(event.retryAt),
        "circuit_breaker.queue_wait_ms": event.waitedMs,
        ...(event.limit === null ? {} : { "circuit_breaker.slots_in_use": event.limit.inUse, "circuit_breaker.max_concurrent_calls": event.limit.max }),
        ...(event.rateLimit === null
          ? {}
          : { "circuit_breaker.rate_limit_used": event.rateLimit.used, "circuit_breaker.rate_limit_calls": event.rateLimit.max }),
      };
    case "retry":
      return {
        ...base,
        "circuit_breaker.retry": event.allowed ? "allowed" : "refused_budget_spent",
        "circuit_breaker.retry_budget_used": event.used,
        "circuit_breaker.retry_budget_allowance": event.allowance,
      };
    case "fallback":
      return { ...base, "circuit_breaker.fallback": event.workflow, "circuit_breaker.fallback_reason": event.reason };
    case "recorded":
      return {
        ...base,
        "circuit_breaker.outcome": event.outcome.ok ? "success" : "failure",
        "circuit_breaker.effect": event.effect,
        "circuit_breaker.probe": event.permit.probe,
        "circuit_breaker.previous_state": event.from,
        "circuit_breaker.duration_ms": event.outcome.durationMs,
        ...(event.outcome.classified ? { "circuit_breaker.rule": event.outcome.classified.rule } : {}),
      };
  }
}

function spanName(event: SpanEvent): string {
  if (event.kind === "admitted") {
    if (event.wouldHaveRejected !== null) return `circuit breaker ${event.breaker}: would have rejected (observe mode)`;
    return `circuit breaker ${event.breaker}: ${event.permit.probe ? "probe admitted" : "admitted"}`;
  }
  if (event.kind === "rejected") {
    if (event.limit !== null) return `circuit breaker ${event.breaker}: rejected (concurrency limit ${event.limit.max})`;
    if (event.rateLimit !== null) return `circuit breaker ${event.breaker}: rejected (rate limit ${event.rateLimit.max})`;
    return `circuit breaker ${event.breaker}: rejected (${event.status})`;
  }
  if (event.kind === "retry") {
    return `circuit breaker ${event.breaker}: retry ${event.allowed ? "allowed" : "refused, budget spent"} (${event.used}/${event.allowance})`;
  }
  if (event.kind === "fallback") return `circuit breaker ${event.breaker}: fallback ${event.workflow}`;
  return event.from !== event.status
    ? `circuit breaker ${event.breaker}: ${event.from} -> ${event.status}`
    : `circuit breaker ${event.breaker}: ${event.outcome.ok ? "success" : "failure"} recorded`;
}

/**
 * Shows each breaker decision as a short span in Dagger's trace view (through the SDK's
 * OpenTelemetry setup), a rejection marked as an error so it stands out.
 */
export class TraceObserver implements BreakerObserver {
  observe(event: BreakerEvent): void {
    if (event.kind === "transition") return;
    const span = getTracer("circuit-breaker").startSpan(spanName(event), spanAttributes(event));
    if (event.kind === "rejected") span.setStatus({ code: SpanStatusCode.ERROR, message: event.message });
    if (event.kind === "retry" && !event.allowed) span.setStatus({ code: SpanStatusCode.ERROR, message: "retry budget spent" });
    span.end();
  }
}
