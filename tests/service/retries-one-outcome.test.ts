import { describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config/parse-config.js";
import { resolveWorkflow, type ResolvedStep } from "../../lib/config/resolve-workflow.js";
import type { BreakerState } from "../../lib/core/state.js";
import { executeWorkflow } from "../../lib/service/execute-workflow.js";
import { MemoryStateStore } from "../../lib/store/memory-store.js";
import type { StateRequest, StateResponse } from "../../lib/store/request.js";
import type { StateStore } from "../../lib/store/state-store.js";
import { backoffDelayMs, seededRandom } from "../../lib/workflow/backoff.js";
import type { StepExecutor, StepRun } from "../../lib/workflow/run-workflow.js";

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);

const workflow = resolveWorkflow(
  parseConfig(
    `
circuit_breaker: { failure_threshold: 5 }
retry: { max_retries: 2, backoff_factor: 1, jitter: 0.5 }
workflows:
  deploy:
    breaker: registry
    steps: [{ name: push, image: alpine, command: [push] }]
`,
    "retries.yaml",
  ),
  "deploy",
);

/** Counts every state request by op, and passes it on. */
class CountingStore implements StateStore {
  readonly description = "counting memory";
  readonly ops: StateRequest["op"][] = [];
  constructor(readonly inner: MemoryStateStore) {}
  apply(request: StateRequest): Promise<StateResponse> {
    this.ops.push(request.op);
    return this.inner.apply(request);
  }
}

/** Exits with the scripted codes in turn, then 0. */
class Scripted implements StepExecutor {
  runs = 0;
  constructor(private readonly codes: number[]) {}
  async run(step: ResolvedStep): Promise<StepRun> {
    this.runs += 1;
    const exitCode = this.codes.shift() ?? 0;
    return { exitCode, stdout: exitCode ? "" : "pushed\n", stderr: exitCode ? `${step.name}: registry said 503\n` : "", durationMs: 5, timedOut: false };
  }
}

function world() {
  let now = T0;
  const clock = () => now;
  const inner = new MemoryStateStore(clock);
  const store = new CountingStore(inner);
  const delays: number[] = [];
  const options = { clock, random: seededRandom(11), sleep: async (ms: number) => void delays.push(ms) };
  return { inner, store, delays, options, advance: (ms: number) => (now += ms) };
}

async function stateOf(store: MemoryStateStore, breaker: string): Promise<BreakerState> {
  const read = await store.apply({ op: "read", breakers: null });
  expect(read.states.map((s) => s.name)).toEqual([breaker]);
  return read.states[0] as BreakerState;
}

describe("whole-workflow retries inside one breaker call", () => {
  it("spread each retry's wait with the run's seeded random source, draw by draw", async () => {
    const w = world();
    await executeWorkflow(w.store, workflow, new Scripted([1, 1]), w.options);
    // The same seed drawn in the same order: the acquire takes the first draw (sent for the
    // open-time jitter), then each retry one. A loop that ignored the run's source (Math.random,
    // or a fixed 0.5 giving exactly 1000 and 2000 ms) would not give these.
    const draws = seededRandom(11);
    draws();
    const expected = [1, 2].map((retry) => backoffDelayMs({ backoffFactorMs: 1000, jitter: 0.5 }, retry, draws));
    expect(w.delays).toEqual(expected);
    expect(w.delays).not.toEqual([1000, 2000]);
  });

  it("record one success when the step fails twice and then succeeds", async () => {
    const w = world();
    const executor = new Scripted([1, 1]);
    const outcome = await executeWorkflow(w.store, workflow, executor, w.options);
    expect(executor.runs).toBe(3);
    expect(w.store.ops).toEqual(["acquire", "record"]);
    const state = await stateOf(w.inner, "registry");
    expect(state.counters).toMatchObject({ admitted: 1, successes: 1, failures: 0 });
    expect(state.consecutiveFailures).toBe(0);
    expect(state.status).toBe("closed");
    expect(outcome.result).toMatchObject({ ok: true, attempts: 3 });
    expect(w.delays).toHaveLength(2);
  });

  it("record one failure when all three attempts fail", async () => {
    const w = world();
    const executor = new Scripted([1, 1, 1]);
    const outcome = await executeWorkflow(w.store, workflow, executor, w.options);
    expect(executor.runs).toBe(3);
    expect(w.store.ops).toEqual(["acquire", "record"]);
    const state = await stateOf(w.inner, "registry");
    expect(state.counters).toMatchObject({ admitted: 1, successes: 0, failures: 1 });
    expect(state.consecutiveFailures).toBe(1);
    expect(state.status).toBe("closed");
    expect(outcome.result).toMatchObject({ ok: false, attempts: 3, failedStep: "push", exitCode: 1 });
  });
});
