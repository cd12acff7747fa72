import { describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config/parse-config.js";
import { resolveWorkflow, type ResolvedStep } from "../../lib/config/resolve-workflow.js";
import { executeWorkflow } from "../../lib/service/execute-workflow.js";
import { MemoryStateStore } from "../../lib/store/memory-store.js";
import { seededRandom } from "../../lib/workflow/backoff.js";
import type { StepExecutor, StepRun } from "../../lib/workflow/run-workflow.js";

const T0 = Date.UTC(2026, 10, 30, 9, 0, 0);
const config = parseConfig(
  `
circuit_breaker: { failure_threshold: 3, reset_timeout: 60 }
on_transition: page-oncall
workflows:
  deploy-staging:
    timeout_seconds: 600
    circuit_breaker: { max_concurrent_calls: 2, queue_timeout: 300 }
    steps: [{ name: deploy, image: alpine, command: [deploy] }]
  deploy-no-queue:
    breaker: staging-slots
    timeout_seconds: 600
    circuit_breaker: { max_concurrent_calls: 1 }
    steps: [{ name: deploy, image: alpine, command: [deploy] }]
  new-threshold:
    circuit_breaker: { mode: observe }
    steps: [{ name: call, image: alpine, command: [call] }]
  page-oncall:
    steps: [{ name: page, image: alpine, command: [page] }]
`,
  "dagger.yaml",
);

/** Runs every step after a real but tiny pause, tracking how many runs overlap; `page` and `fail` decide outcomes. */
class Recording implements StepExecutor {
  running = 0;
  mostAtOnce = 0;
  pages: Record<string, string>[] = [];
  constructor(
    private readonly failing: Set<string> = new Set(),
    private readonly pageFails = false,
  ) {}
  async run(step: ResolvedStep): Promise<StepRun> {
    if (step.name === "page") {
      this.pages.push(step.env);
      return { exitCode: this.pageFails ? 1 : 0, stdout: "", stderr: this.pageFails ? "webhook 500" : "", durationMs: 1, timedOut: false };
    }
    this.running += 1;
    this.mostAtOnce = Math.max(this.mostAtOnce, this.running);
    await new Promise((r) => setTimeout(r, 5));
    this.running -= 1;
    const failed = this.failing.has(step.name);
    return { exitCode: failed ? 1 : 0, stdout: "", stderr: failed ? "connection refused" : "", durationMs: 5, timedOut: false };
  }
}

/** A clock the polling sleeps move forward, so queue timeouts pass without waiting for them. */
function world() {
  let now = T0;
  const clock = () => now;
  const sleep = async (ms: number) => {
    now += ms;
    await new Promise((r) => setTimeout(r, 1));
  };
  return { store: new MemoryStateStore(clock), opts: { clock, sleep, random: seededRandom(42) } };
}

const alert = resolveWorkflow(config, "page-oncall");

describe("max_concurrent_calls through execute", () => {
  it("never runs more than the limit at once; the rest wait for a slot and all run", async () => {
    const w = world();
    const executor = new Recording();
    const workflow = resolveWorkflow(config, "deploy-staging");
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => executeWorkflow(w.store, workflow, executor, w.opts)));
    expect(outcomes.every((o) => o.result?.ok)).toBe(true);
    expect(executor.mostAtOnce).toBe(2);
    expect(outcomes.filter((o) => o.queueWaitMs > 0).length).toBeGreaterThanOrEqual(6);
    const state = w.store.texts.get("deploy-staging");
    expect(JSON.parse(state ?? "{}").counters).toMatchObject({ admitted: 8, successes: 8, limitRefusals: expect.any(Number), queuedCalls: 6 });
    expect(JSON.parse(state ?? "{}").leases).toEqual([]);
  });

  it("refuses a call over the limit with no queue at once, naming the slots, and counts no failure", async () => {
    const w = world();
    const workflow = resolveWorkflow(config, "deploy-no-queue");
    const [first, second] = await Promise.all([
      executeWorkflow(w.store, workflow, new Recording(), w.opts),
      executeWorkflow(w.store, workflow, new Recording(), w.opts),
    ]);
    expect(first?.result?.ok).toBe(true);
    expect(second?.rejection?.message).toContain('circuit breaker "staging-slots" has all 1 concurrency slot(s) taken');
    expect(second?.rejection?.message).toContain("1 of 1 slots are in use");
    expect(second?.rejection?.message).toContain("does not count against the breaker");
    expect(JSON.parse(w.store.texts.get("staging-slots") ?? "{}").counters).toMatchObject({ failures: 0, rejections: 0, limitRefusals: 1 });
  });
});

describe("mode: observe through execute", () => {
  it("keeps running a workflow failing past its threshold and counts what would have been refused", async () => {
    const w = world();
    const workflow = resolveWorkflow(config, "new-threshold");
    const outcomes = [];
    for (let i = 0; i < 6; i++) outcomes.push(await executeWorkflow(w.store, workflow, new Recording(new Set(["call"])), w.opts));
    expect(outcomes.every((o) => o.rejection === null && o.result !== null)).toBe(true);
    expect(outcomes.slice(3).every((o) => o.wouldHaveRejected?.includes("is open"))).toBe(true);
    expect(outcomes.slice(0, 3).every((o) => o.wouldHaveRejected === null)).toBe(true);
    const state = JSON.parse(w.store.texts.get("new-threshold") ?? "{}");
    expect(state.status).toBe("open");
    expect(state.counters).toMatchObject({ wouldHaveRejected: 3, failures: 6, rejections: 0 });
  });
});

describe("on_transition alerts", () => {
  it("runs the alert exactly once for an open made by one of 8 racing failing callers, with the breaker's details as env", async () => {
    const w = world();
    const executor = new Recording(new Set(["deploy"]));
    const workflow = resolveWorkflow(config, "deploy-staging");
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () => executeWorkflow(w.store, { ...workflow, policy: { ...workflow.policy, maxConcurrentCalls: null } }, executor, { ...w.opts, alert })),
    );
    expect(outcomes.filter((o) => o.result !== null)).toHaveLength(8);
    expect(executor.pages).toHaveLength(1);
    expect(executor.pages[0]).toMatchObject({
      CIRCUIT_BREAKER_NAME: "deploy-staging",
      CIRCUIT_BREAKER_FROM: "closed",
      CIRCUIT_BREAKER_TO: "open",
      CIRCUIT_BREAKER_REASON: expect.stringContaining("3 consecutive failures reached"),
      CIRCUIT_BREAKER_LAST_ERROR: expect.stringContaining("connection refused"),
    });
  });

  it("alerts the close made by a probe, and nothing for open to half-open", async () => {
    const w = world();
    const workflow = resolveWorkflow(config, "new-threshold");
    const enforcing = { ...workflow, policy: { ...workflow.policy, mode: "enforce" as const } };
    const failing = new Recording(new Set(["call"]));
    for (let i = 0; i < 3; i++) await executeWorkflow(w.store, enforcing, failing, { ...w.opts, alert });
    expect(failing.pages.map((p) => p.CIRCUIT_BREAKER_TO)).toEqual(["open"]);
    await w.opts.sleep(60_000);
    const healthy = new Recording();
    await executeWorkflow(w.store, enforcing, healthy, { ...w.opts, alert });
    expect(healthy.pages.map((p) => `${p.CIRCUIT_BREAKER_FROM}->${p.CIRCUIT_BREAKER_TO}`)).toEqual(["half-open->closed"]);
  });

  it("reports a failing alert as a warning, never as a failure of the call or the breaker", async () => {
    const w = world();
    const workflow = resolveWorkflow(config, "new-threshold");
    const enforcing = { ...workflow, policy: { ...workflow.policy, mode: "enforce" as const } };
    const executor = new Recording(new Set(["call"]), true);
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await executeWorkflow(w.store, enforcing, executor, { ...w.opts, alert }));
    expect(outcomes[2]?.warnings).toEqual([
      expect.stringContaining('alert workflow "page-oncall" for breaker "new-threshold" (closed -> open) failed'),
    ]);
    expect(JSON.parse(w.store.texts.get("new-threshold") ?? "{}").counters.failures).toBe(3);
  });
});

describe("reset_timeout_jitter through execute", () => {
  /** Opens three breakers at the same instant with the run's random source; returns their open ends. */
  async function openEnds(seed: number): Promise<number[]> {
    let now = T0;
    const store = new MemoryStateStore(() => now);
    const base = resolveWorkflow(config, "new-threshold");
    const opts = { clock: () => now, sleep: async () => {}, random: seededRandom(seed) };
    const ends: number[] = [];
    for (const breakerName of ["registry-eu", "registry-us", "registry-ap"]) {
      const workflow = { ...base, breakerName, policy: { ...base.policy, mode: "enforce" as const, resetTimeoutJitter: 0.5 } };
      for (let i = 0; i < 3; i++) await executeWorkflow(store, workflow, new Recording(new Set(["call"])), opts);
      ends.push(JSON.parse(store.texts.get(breakerName) ?? "{}").openUntil);
    }
    return ends;
  }

  it("spreads the probe times of breakers opened together, within ±jitter, the same for the same seed", async () => {
    const ends = await openEnds(3);
    expect(new Set(ends).size).toBe(3);
    for (const end of ends) {
      expect(end - T0).toBeGreaterThanOrEqual(30_000);
      expect(end - T0).toBeLessThanOrEqual(90_000);
    }
    expect(await openEnds(3)).toEqual(ends);
  });
});
