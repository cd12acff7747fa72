import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { prometheusMetrics } from "../../lib/report/metrics.js";
import { statusReport, statusTable } from "../../lib/report/status-report.js";
import { everyFeature } from "../helpers/every-feature-states.js";

const { states, now } = everyFeature();
const paced = states.filter((s) => s.name === "paced");
const retrying = states.filter((s) => s.name === "retrying");

/** Every sample of one metric family, by breaker. */
function samples(text: string, family: string): Record<string, number> {
  const found = parsePrometheusTextFormat(text).find((f) => f.name === family);
  if (!found) return {};
  return Object.fromEntries(found.metrics.map((m) => [("labels" in m ? m.labels?.breaker : "") ?? "", Number("value" in m ? m.value : NaN)]));
}

describe("status and metrics of time windows, rate limits, retry budgets and fallbacks", () => {
  it("status lines say the window's failures, the rate limit's use and next slot, the budget's use and the fallbacks", () => {
    const table = statusTable([...paced, ...retrying], [], now);
    expect(table).toContain("1/3 failures in the last 600 s");
    expect(table).toMatch(/paced: rate limit 1\/1 calls in the last 3600 s, next slot 2026-12-04T13:01:00Z \(in \d+s\); 1 refused for the limit/);
    expect(table).toContain("paced: 1 call(s) ran their fallback instead");
    expect(table).toContain("retrying: retry budget 1/1 retries in the last 60 s (from 1 first attempts); 1 retried, 1 refused");
  });

  it("status JSON carries the rate limit and the budget, null where a breaker has none", () => {
    const report = statusReport([...paced, ...retrying], [], now);
    const [p, r] = report.breakers;
    expect(p?.rateLimit).toEqual({ used: 1, max: 1, periodSeconds: 3600, nextSlotAt: "2026-12-04T13:01:00.000Z" });
    expect(p?.retryBudget).toBeNull();
    expect(p?.failures).toMatchObject({ kind: "failures-in-time", failures: 1, calls: 1, threshold: 3, windowMs: 600_000 });
    expect(p?.counters).toMatchObject({ rateLimitRefusals: 1, fallbacks: 1 });
    expect(r?.retryBudget).toEqual({ used: 1, allowance: 1, firstAttempts: 1, windowSeconds: 60 });
    expect(r?.rateLimit).toBeNull();
  });

  it("metrics expose each, for the breakers that use it", () => {
    const text = prometheusMetrics(states, now);
    expect(samples(text, "circuit_breaker_window_failures")).toMatchObject({ paced: 1, rated: 1 });
    expect(samples(text, "circuit_breaker_window_calls")).toMatchObject({ paced: 1 });
    expect(samples(text, "circuit_breaker_rate_limit_calls")).toEqual({ paced: 1 });
    expect(samples(text, "circuit_breaker_rate_limit")).toEqual({ paced: 1 });
    expect(samples(text, "circuit_breaker_rate_limit_refusals_total")).toMatchObject({ paced: 1, retrying: 0 });
    expect(samples(text, "circuit_breaker_retries_total")).toEqual({ retrying: 1 });
    expect(samples(text, "circuit_breaker_retry_budget_refusals_total")).toMatchObject({ retrying: 1, paced: 0 });
    expect(samples(text, "circuit_breaker_retry_budget_remaining")).toEqual({ retrying: 0 });
    expect(samples(text, "circuit_breaker_fallbacks_total")).toMatchObject({ paced: 1, retrying: 0 });
  });
});
