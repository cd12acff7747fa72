import type { CacheVolume, Container } from "@dagger.io/dagger";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../lib/config/parse-config.js";
import { resolveWorkflow, type ResolvedStep } from "../../lib/config/resolve-workflow.js";
import { executeWorkflow } from "../../lib/service/execute-workflow.js";
import { MemoryStateStore } from "../../lib/store/memory-store.js";
import type { StateRequest } from "../../lib/store/request.js";
import { STATE_IMAGE, stateExecOn, type StateExec } from "../../lib/store/volume/state-exec.js";
import { STATE_PROGRAM_LIMIT_SECONDS, STATE_WAIT_LIMIT_MS, StateTimeoutError } from "../../lib/store/volume/state-timeout.js";
import { VolumeStateStore } from "../../lib/store/volume/volume-store.js";
import type { StepExecutor, StepRun } from "../../lib/workflow/run-workflow.js";

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const VOLUME = `cache volume "circuit-breaker-state"`;
const RESTART =
  "Retry the call. If this keeps happening, an exec may be wedged holding the volume lock: restart the Dagger " +
  "engine (see https://github.com/dagger/dagger/issues/12871).";

/** A Container that records the pipeline built on it instead of sending it to an engine. */
function recordingContainer() {
  const calls: { op: string; args: unknown[] }[] = [];
  const container: Record<string, (...args: unknown[]) => unknown> = {};
  for (const op of ["from", "withMountedCache", "withNewFile", "withEnvVariable", "withExec"]) {
    container[op] = (...args: unknown[]) => {
      calls.push({ op, args });
      return container;
    };
  }
  container.stdout = async () => JSON.stringify({ now: T0, states: [], problems: [] });
  return { calls, container: container as unknown as Container };
}

/** An exec in front of a memory store that can be made to hang or to be killed by `timeout`. */
function stateEngine() {
  let now = T0;
  const memory = new MemoryStateStore(() => now);
  let mode: "answer" | "hang" | "killed" = "answer";
  const hangOn = new Set<StateRequest["op"]>();
  const execs: StateRequest[] = [];
  const exec: StateExec = async (request) => {
    execs.push(request);
    if (mode === "killed") throw Object.assign(new Error("exit code: 137"), { name: "ExecError", exitCode: 137 });
    if (mode === "hang" || hangOn.has(request.op)) return new Promise<string>(() => {});
    return JSON.stringify(await memory.apply(request));
  };
  return {
    store: new VolumeStateStore(exec, "circuit-breaker-state"),
    memory,
    execs,
    hangOn,
    set: (m: typeof mode) => (mode = m),
    advance: (ms: number) => (now += ms),
  };
}

const config = parseConfig(
  `
circuit_breaker: { failure_threshold: 1 }
workflows:
  deploy:
    breaker: staging-api
    steps: [{ name: push, image: alpine, command: [deploy] }]
`,
  "dagger.yaml",
);

class Service implements StepExecutor {
  calls = 0;
  async run(_step: ResolvedStep): Promise<StepRun> {
    this.calls += 1;
    return { exitCode: 0, stdout: "deployed\n", stderr: "", durationMs: 5, timedOut: false };
  }
}

describe("the state exec", () => {
  it("runs the bundled program under `timeout -s KILL 30` in the runtime's own pinned image, volume LOCKED, fresh nonce", async () => {
    const { calls, container } = recordingContainer();
    const exec = stateExecOn({} as CacheVolume, () => container);
    await exec({ op: "read", breakers: null });
    await exec({ op: "read", breakers: null });

    expect(STATE_IMAGE).toBe("node:24.13.1-alpine@sha256:4f696fbf39f383c1e486030ba6b289a5d9af541642fc78ab197e584a113b9c03");
    expect(calls.filter((c) => c.op === "from").map((c) => c.args[0])).toEqual([STATE_IMAGE, STATE_IMAGE]);
    const argv = calls.filter((c) => c.op === "withExec").map((c) => c.args[0] as string[]);
    expect(argv).toHaveLength(2);
    for (const args of argv) {
      expect(args.slice(0, 5)).toEqual(["timeout", "-s", "KILL", "30", "node"]);
      expect(args[5]).toMatch(/^\/opt\/circuit-breaker\/state-op-[0-9a-f]{12}\.mjs$/);
      expect(args).toHaveLength(6);
    }
    expect(calls.find((c) => c.op === "withMountedCache")?.args[2]).toEqual({ sharing: "LOCKED" });
    const nonces = calls.filter((c) => c.op === "withEnvVariable" && c.args[0] === "CB_NONCE").map((c) => c.args[1]);
    expect(new Set(nonces).size).toBe(2);
  });
});

// A short test timeout: with the limit broken, these would otherwise wait for vitest's 120 s.
describe("a state exec that never answers", { timeout: 10_000 }, () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("fails the call after the wait limit, naming breaker, operation, volume and limit, and saying what to do", async () => {
    expect(STATE_WAIT_LIMIT_MS).toBe(60_000);
    const e = stateEngine();
    e.set("hang");
    let settled = false;
    const reset = e.store.apply({ op: "reset", breaker: "staging-api", policy: null });
    const failed = expect(reset.finally(() => (settled = true))).rejects.toThrow(
      `state operation "reset" on breaker "staging-api" got no answer from ${VOLUME} within 60 s, so this call stopped ` +
        `waiting and failed. Whether breaker "staging-api" was changed is not known: the exec may still be queued for the ` +
        `volume lock and run later. Its state is never left half-written. ${RESTART}`,
    );
    await vi.advanceTimersByTimeAsync(STATE_WAIT_LIMIT_MS - 1);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await failed;
  });

  it("says a read changed nothing, and names every breaker it read", async () => {
    const e = stateEngine();
    e.set("hang");
    const read = e.store.apply({ op: "read", breakers: ["a", "b"] });
    const failed = expect(read).rejects.toThrow(
      `state read of breaker(s) "a", "b" got no answer from ${VOLUME} within 60 s, so this call stopped waiting and ` +
        `failed. A read changes nothing: breaker state is as it was. ${RESTART}`,
    );
    await vi.advanceTimersByTimeAsync(STATE_WAIT_LIMIT_MS);
    await failed;
  });

  it("says of a prune that only unused breakers are ever removed, so running it again is safe", async () => {
    const e = stateEngine();
    e.set("hang");
    const prune = e.store.apply({ op: "prune", unusedForMs: 30 * 86_400_000, dryRun: false });
    const failed = expect(prune).rejects.toThrow(
      `state prune of every breaker got no answer from ${VOLUME} within 60 s, so this call stopped waiting and failed. ` +
        `Which breakers were removed is not known: the exec may still be queued for the volume lock and run later. Each ` +
        `breaker is either whole or gone, and only breakers the prune judged unused are ever removed, so running it again ` +
        `is safe. ${RESTART}`,
    );
    await vi.advanceTimersByTimeAsync(STATE_WAIT_LIMIT_MS);
    await failed;
    e.set("killed");
    await expect(e.store.apply({ op: "prune", unusedForMs: 1000, dryRun: true })).rejects.toThrow(
      `state prune of every breaker (dry run) in ${VOLUME} was killed at its 30 s limit, so this call failed. A dry run ` +
        `changes nothing: breaker state is as it was. ${RESTART}`,
    );
  });

  it("reports a program killed by its `timeout` (exit 137) as such", async () => {
    expect(STATE_PROGRAM_LIMIT_SECONDS).toBe(30);
    const e = stateEngine();
    e.set("killed");
    await expect(e.store.apply({ op: "trip", breaker: "staging-api", policy: null, durationMs: null })).rejects.toThrow(
      `state operation "trip" on breaker "staging-api" in ${VOLUME} was killed at its 30 s limit, so this call failed. ` +
        `Breaker "staging-api" holds either its state from before this call or this change, never a half-written one: ` +
        `the program writes to a temporary file and renames it. ${RESTART}`,
    );
  });

  it("does not run the workflow and does not count against the breaker when acquire times out", async () => {
    const e = stateEngine();
    const service = new Service();
    const deploy = resolveWorkflow(config, "deploy");
    e.set("hang");
    const run = executeWorkflow(e.store, deploy, service, { clock: () => T0, sleep: async () => {} });
    const failed = expect(run).rejects.toSatisfy((err: unknown) => {
      expect(err).toBeInstanceOf(StateTimeoutError);
      expect((err as Error).message).toMatch(
        /^state operation "acquire" on breaker "staging-api" got no answer from cache volume "circuit-breaker-state" within 60 s.* Nothing was run under the breaker and nothing was counted against it/,
      );
      return true;
    });
    await vi.advanceTimersByTimeAsync(STATE_WAIT_LIMIT_MS);
    await failed;
    expect(service.calls).toBe(0);
    expect(e.execs.map((r) => r.op)).toEqual(["acquire"]);

    // The store answers again: the breaker (threshold 1) is closed, with no failure counted.
    e.set("answer");
    const after = await executeWorkflow(e.store, deploy, service, { clock: () => T0, sleep: async () => {} });
    expect(after.result?.ok).toBe(true);
    const state = JSON.parse(e.memory.texts.get("staging-api") ?? "{}");
    expect(state.status).toBe("closed");
    expect(state.counters).toMatchObject({ failures: 0, successes: 1 });
  });

  it("says the call ran but its outcome may be unrecorded when record times out", async () => {
    const e = stateEngine();
    const service = new Service();
    e.hangOn.add("record");
    const run = executeWorkflow(e.store, resolveWorkflow(config, "deploy"), service, { clock: () => T0, sleep: async () => {} });
    const failed = expect(run).rejects.toThrow(
      /^state operation "record" on breaker "staging-api" got no answer .* The protected call had already run; its outcome may not have been recorded\. Retry/,
    );
    await vi.advanceTimersByTimeAsync(STATE_WAIT_LIMIT_MS);
    await failed;
    expect(service.calls).toBe(1);
  });
});
