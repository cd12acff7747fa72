import { describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config/parse-config.js";
import { resolveWorkflow, type ResolvedStep, type ResolvedWorkflow } from "../../lib/config/resolve-workflow.js";
import { parseState } from "../../lib/core/serialize.js";
import { RateLimitError } from "../../lib/protection/errors.js";
import { executeWorkflow, type ExecuteOptions, type FallbackPlan } from "../../lib/service/execute-workflow.js";
import { MemoryStateStore } from "../../lib/store/memory-store.js";
import type { StateRequest, StateResponse } from "../../lib/store/request.js";
import type { StateStore } from "../../lib/store/state-store.js";
import { seededRandom } from "../../lib/workflow/backoff.js";
import type { StepExecutor, StepRun } from "../../lib/workflow/run-workflow.js";

const T0 = Date.UTC(2026, 11, 4, 9, 0, 0);
const STEP = (name: string) => `[{ name: ${name}, image: alpine, command: [${name}] }]`;
const config = parseConfig(
  `
circuit_breaker: { failure_threshold: 2, reset_timeout: 60 }
workflows:
  deploy:
    fallback: deploy-from-cache
    steps: ${STEP("deploy")}
  deploy-or-cache:
    fallback: deploy-from-cache
    fallback_on_failure: true
    steps: ${STEP("deploy")}
  deploy-from-cache:
    steps: ${STEP("cached")}
  push:
    retry: { max_retries: 3, backoff_factor: 0 }
    circuit_breaker: { retry_budget: { ratio: 0, min_retries_per_minute: 3, window_seconds: 60 } }
    steps: ${STEP("push")}
  push-step-retries:
    circuit_breaker: { retry_budget: { ratio: 0, min_retries_per_minute: 1, window_seconds: 60 } }
    steps: [{ name: push, image: alpine, command: [push], retries: 3 }]
  push-unbudgeted:
    retry: { max_retries: 3, backoff_factor: 0 }
    steps: ${STEP("push")}
  release:
    circuit_breaker: { rate_limit: { calls: 2, period_seconds: 3600 } }
    steps: ${STEP("release")}
  release-queued:
    circuit_breaker: { rate_limit: { calls: 2, period_seconds: 3600 }, queue_timeout: 7200 }
    steps: ${STEP("release")}
`,
  "dagger.yaml",
);

/** Fails the steps named in `failing`, recording every run and the env it got. */
class Steps implements StepExecutor {
  runs: { name: string; env: Record<string, string> }[] = [];
  constructor(readonly failing = new Set<string>()) {}
  async run(step: ResolvedStep): Promise<StepRun> {
    this.runs.push({ name: step.name, env: step.env });
    await new Promise((r) => setTimeout(r, 1));
    const failed = this.failing.has(step.name);
    return { exitCode: failed ? 1 : 0, stdout: failed ? "" : `${step.name} done\n`, stderr: failed ? "503 from the service" : "", durationMs: 1, timedOut: false };
  }
  count(name: string): number {
    return this.runs.filter((r) => r.name === name).length;
  }
}

/** Counts the state operations each breaker gets. */
class Counting implements StateStore {
  readonly description = "counting";
  ops: { op: string; breaker: string }[] = [];
  constructor(readonly inner: MemoryStateStore) {}
  apply(request: StateRequest): Promise<StateResponse> {
    this.ops.push({ op: request.op, breaker: "breaker" in request ? request.breaker : "" });
    return this.inner.apply(request);
  }
}

function world() {
  let now = T0;
  const clock = () => now;
  const sleep = async (ms: number) => {
    now += ms;
    await new Promise((r) => setTimeout(r, 1));
  };
  const memory = new MemoryStateStore(clock);
  const opts: ExecuteOptions = { clock, sleep, random: seededRandom(7) };
  return { memory, store: new Counting(memory), opts, advance: (ms: number) => void (now += ms) };
}

const resolved = (name: string): ResolvedWorkflow => resolveWorkflow(config, name);
const planFor = (name: string): FallbackPlan => {
  const w = resolved(name);
  if (w.fallback === null) throw new Error(`${name} has no fallback`);
  return { workflow: resolved(w.fallback.workflow), onFailure: w.fallback.onFailure, alert: null };
};
const counters = (w: ReturnType<typeof world>, breaker: string) => parseState(w.memory.texts.get(breaker) ?? "", breaker).counters;

describe("fallback", () => {
  it("runs the fallback when the breaker refuses, telling it why, and never counts it against the primary", async () => {
    const w = world();
    const steps = new Steps(new Set(["deploy"]));
    const options = { ...w.opts, fallback: planFor("deploy") };
    // Two failures open the deploy breaker; fallback_on_failure is off, so the fallback does not run for them.
    for (let i = 0; i < 2; i++) expect((await executeWorkflow(w.store, resolved("deploy"), steps, options)).fallback).toBeNull();
    w.store.ops = [];
    const refused = await executeWorkflow(w.store, resolved("deploy"), steps, options);
    expect(refused.rejection?.message).toMatch(/^circuit breaker "deploy" is open, so workflow "deploy" was not run/);
    expect(refused.fallback).toMatchObject({ workflow: "deploy-from-cache", reason: refused.rejection?.message });
    expect(refused.fallback?.outcome.result?.output).toBe("cached done\n");
    expect(refused.warnings[0]).toMatch(/^fallback workflow "deploy-from-cache" ran instead of "deploy": circuit breaker "deploy" is open/);
    const env = steps.runs.at(-1)?.env ?? {};
    expect(env).toMatchObject({ CIRCUIT_BREAKER_NAME: "deploy", CIRCUIT_BREAKER_STATE: "open", CIRCUIT_BREAKER_RETRY_AT: new Date(T0 + 60_000).toISOString() });
    expect(env.CIRCUIT_BREAKER_FALLBACK_REASON).toBe(refused.rejection?.message);
    // One request to the primary (refused), two to the fallback's own breaker.
    expect(w.store.ops).toEqual([
      { op: "acquire", breaker: "deploy" },
      { op: "acquire", breaker: "deploy-from-cache" },
      { op: "record", breaker: "deploy-from-cache" },
    ]);
    expect(counters(w, "deploy")).toMatchObject({ failures: 2, rejections: 1, fallbacks: 1, admitted: 2 });
    expect(counters(w, "deploy-from-cache")).toMatchObject({ admitted: 1, successes: 1 });
  });

  it("runs after an unprotected workflow's failure too, telling the fallback it was unprotected", async () => {
    const w = world();
    const steps = new Steps(new Set(["deploy"]));
    const events: string[] = [];
    const unprotected = { ...resolved("deploy-or-cache"), useCircuitBreaker: false };
    const outcome = await executeWorkflow(w.store, unprotected, steps, { ...w.opts, fallback: planFor("deploy-or-cache") }, { observe: (e) => events.push(e.kind) });
    expect(outcome.fallback?.outcome.result?.ok).toBe(true);
    expect(steps.runs.at(-1)?.env).toMatchObject({ CIRCUIT_BREAKER_STATE: "unprotected", CIRCUIT_BREAKER_RETRY_AT: "" });
    expect(events).not.toContain("fallback");
  });

  it("runs on failure only with fallback_on_failure, and a failing fallback counts against its own breaker only", async () => {
    const w = world();
    const steps = new Steps(new Set(["deploy", "cached"]));
    const outcome = await executeWorkflow(w.store, resolved("deploy-or-cache"), steps, { ...w.opts, fallback: planFor("deploy-or-cache") });
    expect(outcome.result?.ok).toBe(false);
    expect(outcome.fallback?.reason).toMatch(/^workflow "deploy-or-cache" failed: step "deploy" exited with code 1/);
    expect(outcome.fallback?.outcome.result?.ok).toBe(false);
    expect(counters(w, "deploy-or-cache")).toMatchObject({ failures: 1, fallbacks: 1 });
    expect(counters(w, "deploy-from-cache")).toMatchObject({ failures: 1, fallbacks: 0 });
  });
});

describe("retry budget through execute", () => {
  it("limits the retries of racing callers to the budget, each refused call failing with its last error and the reason", async () => {
    const w = world();
    const steps = new Steps(new Set(["push"]));
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => executeWorkflow(w.store, resolved("push"), steps, w.opts)));
    // 8 first attempts; ratio 0 and a floor of 3 per minute: 3 retries in all, where 8 × 3 were wanted.
    expect(steps.count("push")).toBe(8 + 3);
    const refused = outcomes.filter((o) => o.result?.retryRefused !== null);
    expect(refused.length).toBeGreaterThanOrEqual(5);
    expect(refused[0]?.result?.error).toMatch(
      /^workflow "push" failed: step "push" exited with code 1 \(1 attempt\(s\)\); no retry: the retry budget of breaker "push" is spent \(3 of 3 retries in the last 60 s, from 8 first attempts across every caller\)/,
    );
    expect(refused[0]?.result?.error).toContain("503 from the service");
    expect(counters(w, "push")).toMatchObject({ retries: 3, retryBudgetRefusals: 8, failures: 8 });
  });

  it("costs one state operation per retry, and nothing for a call that does not retry or a breaker without a budget", async () => {
    const w = world();
    await executeWorkflow(w.store, resolved("push"), new Steps(), w.opts);
    expect(w.store.ops.map((o) => o.op)).toEqual(["acquire", "record"]);
    w.store.ops = [];
    await executeWorkflow(w.store, resolved("push-unbudgeted"), new Steps(new Set(["push"])), w.opts);
    expect(w.store.ops.map((o) => o.op)).toEqual(["acquire", "record"]);
    w.store.ops = [];
    w.advance(120_000);
    await executeWorkflow(w.store, resolved("push"), new Steps(new Set(["push"])), w.opts);
    expect(w.store.ops.map((o) => o.op)).toEqual(["acquire", "retry", "retry", "retry", "record"]);
  });

  it("limits a step's own retries too", async () => {
    const w = world();
    const steps = new Steps(new Set(["push"]));
    const outcome = await executeWorkflow(w.store, resolved("push-step-retries"), steps, w.opts);
    expect(steps.count("push")).toBe(2);
    expect(outcome.result?.error).toMatch(/step "push" exited with code 1 \(2 attempt\(s\)\); no retry: the retry budget of breaker "push-step-retries" is spent \(1 of 1 retries/);
  });

  it("sends a call whose retry was refused to its fallback", async () => {
    const w = world();
    const steps = new Steps(new Set(["push"]));
    const push = resolved("push");
    const plan: FallbackPlan = { workflow: resolved("deploy-from-cache"), onFailure: false, alert: null };
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await executeWorkflow(w.store, push, steps, { ...w.opts, fallback: plan }));
    expect(outcomes.map((o) => o.fallback?.workflow ?? null)).toEqual([null, "deploy-from-cache", "deploy-from-cache"]);
    expect(outcomes[1]?.fallback?.reason).toMatch(/no retry: the retry budget of breaker "push" is spent/);
  });
});

describe("rate limit through execute", () => {
  it("refuses the call over the limit at once, naming the limit and when the next slot frees, counting no failure", async () => {
    const w = world();
    const steps = new Steps();
    await executeWorkflow(w.store, resolved("release"), steps, w.opts);
    await executeWorkflow(w.store, resolved("release"), steps, w.opts);
    const third = await executeWorkflow(w.store, resolved("release"), steps, w.opts);
    expect(third.rejection).toBeInstanceOf(RateLimitError);
    expect(third.rejection?.message).toBe(
      `circuit breaker "release" has admitted its 2 call(s) per 3600 s (rate_limit), so workflow "release" was not run. ` +
        `2 of 2 calls of the last 3600 s are used. The next slot frees at ${new Date(T0 + 60_000 + 3_600_000).toISOString()} (in 3660 s). ` +
        "This is not a failure of the service and does not count against the breaker; set or raise queue_timeout to wait for a slot.",
    );
    expect(steps.count("release")).toBe(2);
    expect(counters(w, "release")).toMatchObject({ admitted: 2, rateLimitRefusals: 1, failures: 0, rejections: 0 });
  });

  it("waits for the next slot within queue_timeout, sleeping until it frees rather than polling every few seconds", async () => {
    const w = world();
    const steps = new Steps();
    for (let i = 0; i < 2; i++) await executeWorkflow(w.store, resolved("release-queued"), steps, w.opts);
    w.store.ops = [];
    const third = await executeWorkflow(w.store, resolved("release-queued"), steps, w.opts);
    expect(third.result?.ok).toBe(true);
    expect(third.queueWaitMs).toBeGreaterThanOrEqual(3_660_000);
    expect(w.store.ops.map((o) => o.op)).toEqual(["acquire", "acquire", "record"]);
  });
});
