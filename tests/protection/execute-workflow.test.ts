import { describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config/parse-config.js";
import { resolveWorkflow, type ResolvedStep } from "../../lib/config/resolve-workflow.js";
import { CallerError, StateUnreadableError } from "../../lib/protection/errors.js";
import { runProtected } from "../../lib/protection/run-protected.js";
import { executeWorkflow } from "../../lib/service/execute-workflow.js";
import { MemoryStateStore } from "../../lib/store/memory-store.js";
import type { StepExecutor, StepRun } from "../../lib/workflow/run-workflow.js";

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const config = parseConfig(
  `
circuit_breaker: { failure_threshold: 3, reset_timeout: 60 }
workflows:
  deploy:
    breaker: staging-api
    steps: [{ name: push, image: alpine, command: [deploy] }]
  smoke:
    breaker: staging-api
    steps: [{ name: check, image: alpine, command: [check] }]
  unguarded:
    use_circuit_breaker: false
    steps: [{ name: x, image: alpine, command: [x] }]
`,
  "dagger.yaml",
);

class Service implements StepExecutor {
  up = false;
  calls = 0;
  async run(step: ResolvedStep): Promise<StepRun> {
    this.calls += 1;
    return this.up
      ? { exitCode: 0, stdout: "deployed\n", stderr: "", durationMs: 5, timedOut: false }
      : { exitCode: 7, stdout: "", stderr: `${step.name}: connection refused\n`, durationMs: 5, timedOut: false };
  }
}

function world() {
  let now = T0;
  const clock = () => now;
  return { store: new MemoryStateStore(clock), service: new Service(), clock, advance: (ms: number) => (now += ms), opts: { clock, sleep: async () => {} } };
}

describe("a workflow under its breaker", () => {
  it("fails fast once open, naming breaker, failures, last error and next probe", async () => {
    const w = world();
    const deploy = resolveWorkflow(config, "deploy");
    for (let i = 0; i < 3; i++) {
      const o = await executeWorkflow(w.store, deploy, w.service, w.opts);
      expect(o.result?.ok).toBe(false);
    }
    w.advance(1000);
    const rejected = await executeWorkflow(w.store, deploy, w.service, w.opts);
    expect(w.service.calls).toBe(3);
    expect(rejected.result).toBeNull();
    expect(rejected.rejection?.message).toBe(
      'circuit breaker "staging-api" is open, so workflow "deploy" was not run. ' +
        "Failures: 3/3 consecutive failures. " +
        'Last error: workflow "deploy" failed: step "push" exited with code 7 (1 attempt(s)). ' +
        "Opened at 2026-11-28T09:00:00.000Z. " +
        "Next probe allowed at 2026-11-28T09:01:00.000Z (in 59 s).",
    );
  });

  it("shares one breaker between workflows that name it, and closes after a good probe", async () => {
    const w = world();
    for (let i = 0; i < 3; i++) await executeWorkflow(w.store, resolveWorkflow(config, "deploy"), w.service, w.opts);
    const smoke = resolveWorkflow(config, "smoke");
    expect((await executeWorkflow(w.store, smoke, w.service, w.opts)).rejection).not.toBeNull();
    w.advance(60_000);
    w.service.up = true;
    const probe = await executeWorkflow(w.store, smoke, w.service, w.opts);
    expect(probe.result?.ok).toBe(true);
    expect(probe.view?.status).toBe("closed");
  });

  it("leaves state untouched when use_circuit_breaker is false", async () => {
    const w = world();
    for (let i = 0; i < 10; i++) {
      const o = await executeWorkflow(w.store, resolveWorkflow(config, "unguarded"), w.service, w.opts);
      expect(o.protected).toBe(false);
    }
    expect(w.service.calls).toBe(10);
    expect(w.store.texts.size).toBe(0);
  });

  it("gives the permit back uncounted on a caller error, counts any other error", async () => {
    const w = world();
    const call = (fail: Error) =>
      runProtected({ store: w.store, breaker: "b", policy: resolveWorkflow(config, "deploy").policy, what: "x", expectedDurationMs: 0, run: async () => { throw fail; } });
    await expect(call(new CallerError("bad --params"))).rejects.toThrow("bad --params");
    await expect(call(new Error("registry unreachable"))).rejects.toThrow("registry unreachable");
    const state = JSON.parse(w.store.texts.get("b") ?? "{}");
    expect(state.counters).toMatchObject({ admitted: 2, cancelled: 1, failures: 1 });
    expect(state.lastError.message).toBe("registry unreachable");
  });

  it("refuses to run on unreadable state and says how to recover, without overwriting it", async () => {
    const w = world();
    w.store.texts.set("staging-api", '{"version":1,"name":"staging-api"');
    await expect(executeWorkflow(w.store, resolveWorkflow(config, "deploy"), w.service, w.opts)).rejects.toThrow(StateUnreadableError);
    await expect(executeWorkflow(w.store, resolveWorkflow(config, "deploy"), w.service, w.opts)).rejects.toThrow(
      /state of breaker "staging-api" is unreadable: not JSON .* Run `reset --breaker staging-api`/,
    );
    expect(w.service.calls).toBe(0);
    expect(w.store.texts.get("staging-api")).toBe('{"version":1,"name":"staging-api"');
    await w.store.apply({ op: "reset", breaker: "staging-api", policy: null });
    expect((await executeWorkflow(w.store, resolveWorkflow(config, "deploy"), w.service, w.opts)).result).not.toBeNull();
  });
});
