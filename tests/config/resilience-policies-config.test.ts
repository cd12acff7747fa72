import { describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config/index.js";
import { resolveWorkflow } from "../../lib/config/resolve-workflow.js";
import { configErrorLine } from "../helpers/config-error-line.js";

const FILE = "config/dagger.yaml";
const STEP = "{ name: a, image: alpine:3.20, command: [echo, hi] }";

const firstLine = (text: string): string => configErrorLine(text, FILE);

const workflowWith = (settings: string) => `workflows:\n  a:\n    circuit_breaker: ${settings}\n    steps: [${STEP}]\n`;

describe("config of time windows, rate limits and retry budgets", () => {
  it("turns window_seconds into a time-based failure rate, and failure_count into failures within a time span", () => {
    const rate = resolveWorkflow(parseConfig(workflowWith("{ trip_policy: failure_rate, window_seconds: 300, minimum_calls: 4 }"), FILE), "a");
    expect(rate.policy.trip).toEqual({ kind: "time-failure-rate", rate: 0.5, windowMs: 300_000, minimumCalls: 4 });
    const count = resolveWorkflow(parseConfig(workflowWith("{ trip_policy: failure_count, failure_threshold: 5, window_seconds: 600 }"), FILE), "a");
    expect(count.policy.trip).toEqual({ kind: "failures-in-time", threshold: 5, windowMs: 600_000 });
    const counted = resolveWorkflow(parseConfig(workflowWith("{ trip_policy: failure_rate, window_size: 30 }"), FILE), "a");
    expect(counted.policy.trip).toMatchObject({ kind: "failure-rate", windowSize: 30 });
  });

  it("resolves the rate limit and the retry budget, filling the budget's defaults", () => {
    const w = resolveWorkflow(
      parseConfig(workflowWith("{ rate_limit: { calls: 10, period_seconds: 3600 }, retry_budget: { ratio: 0.1 } }"), FILE),
      "a",
    );
    expect(w.policy.rateLimit).toEqual({ calls: 10, periodMs: 3_600_000 });
    expect(w.policy.retryBudget).toEqual({ ratio: 0.1, minPerMinute: 10, windowMs: 60_000 });
    const off = resolveWorkflow(parseConfig(`workflows:\n  a: { steps: [${STEP}] }\n`, FILE), "a");
    expect(off.policy).toMatchObject({ rateLimit: null, retryBudget: null });
    expect(off.fallback).toBeNull();
  });

  it("locates a failure_count without a window, and a section with both windows", () => {
    expect(firstLine(workflowWith("{ trip_policy: failure_count }"))).toBe(
      `${FILE}:3:37: workflows.a.circuit_breaker.trip_policy: trip_policy failure_count opens after failure_threshold failures within window_seconds, but window_seconds is not set: add it, e.g. window_seconds: 600`,
    );
    expect(firstLine(`circuit_breaker: { trip_policy: failure_count }\nworkflows:\n  a: { steps: [${STEP}] }\n  b: { steps: [${STEP}] }\n`)).toMatch(
      /^config\/dagger\.yaml:1:\d+: circuit_breaker\.trip_policy: trip_policy failure_count/,
    );
    expect(firstLine(workflowWith("{ trip_policy: failure_rate, window_size: 20, window_seconds: 60 }"))).toMatch(
      /^config\/dagger\.yaml:3:\d+: workflows\.a\.circuit_breaker\.window_size: window_size and window_seconds are both set/,
    );
  });

  it("locates bad rate-limit and budget values with what is expected", () => {
    expect(firstLine(workflowWith("{ rate_limit: { calls: 0, period_seconds: 60 } }"))).toMatch(
      /workflows\.a\.circuit_breaker\.rate_limit\.calls: must be a whole number >= 1, got 0$/,
    );
    expect(firstLine(workflowWith("{ rate_limit: { calls: 5 } }"))).toMatch(/workflows\.a\.circuit_breaker\.rate_limit: missing required key "period_seconds": add period_seconds: <value>$/);
    expect(firstLine(workflowWith("{ retry_budget: { ratio: -1 } }"))).toMatch(/retry_budget\.ratio: must be a number of 0 or more, such as 0\.2, got -1$/);
    expect(firstLine(workflowWith("{ retry_budget: { ratios: 1 } }"))).toMatch(/retry_budget/);
  });

  it("lets --failure-threshold override failure_count too", () => {
    const config = parseConfig(workflowWith("{ trip_policy: failure_count, failure_threshold: 5, window_seconds: 600 }"), FILE);
    expect(resolveWorkflow(config, "a", { failureThreshold: 2 }).policy.trip).toMatchObject({ threshold: 2 });
  });
});

describe("config of fallbacks", () => {
  const config = (a: string, b = `{ steps: [${STEP}] }`) => `workflows:\n  a: ${a}\n  b: ${b}\n`;

  it("resolves the fallback and whether it also runs on failure", () => {
    const w = resolveWorkflow(parseConfig(config(`{ fallback: b, fallback_on_failure: true, steps: [${STEP}] }`), FILE), "a");
    expect(w.fallback).toEqual({ workflow: "b", onFailure: true });
  });

  it("locates an unknown fallback with the nearest name, and a workflow that is its own fallback", () => {
    expect(firstLine(config(`{ fallback: c, steps: [${STEP}] }`))).toMatch(/^config\/dagger\.yaml:2:\d+: workflows\.a\.fallback: no workflow named "c" to run as the fallback/);
    expect(firstLine(config(`{ fallback: a, steps: [${STEP}] }`))).toMatch(/workflows\.a\.fallback: workflow "a" cannot be its own fallback/);
  });

  it("refuses chains and cycles of fallbacks", () => {
    expect(firstLine(config(`{ fallback: b, steps: [${STEP}] }`, `{ fallback: a, steps: [${STEP}] }`))).toMatch(
      /^config\/dagger\.yaml:2:\d+: workflows\.a\.fallback: the fallback "b" has a fallback of its own \("a"\); fallbacks do not chain/,
    );
  });

  it("refuses a fallback guarded by the same breaker, which would be refused too, but not an unguarded one", () => {
    expect(firstLine(config(`{ breaker: reg, fallback: b, steps: [${STEP}] }`, `{ breaker: reg, steps: [${STEP}] }`))).toMatch(
      /workflows\.a\.fallback: the fallback "b" is guarded by the same breaker "reg"/,
    );
    const ok = parseConfig(config(`{ breaker: reg, fallback: b, steps: [${STEP}] }`, `{ breaker: reg, use_circuit_breaker: false, steps: [${STEP}] }`), FILE);
    expect(resolveWorkflow(ok, "a").fallback?.workflow).toBe("b");
  });

  it("locates fallback_on_failure without a fallback", () => {
    expect(firstLine(config(`{ fallback_on_failure: true, steps: [${STEP}] }`))).toMatch(/workflows\.a\.fallback_on_failure: fallback_on_failure is set but the workflow has no fallback/);
  });
});
