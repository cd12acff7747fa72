import { describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config/parse-config.js";
import { resolveWorkflow, type ResolvedStep } from "../../lib/config/resolve-workflow.js";
import { executeWorkflow } from "../../lib/service/execute-workflow.js";
import { MemoryStateStore } from "../../lib/store/memory-store.js";
import type { StepExecutor, StepRun } from "../../lib/workflow/run-workflow.js";

const T0 = Date.UTC(2026, 10, 30, 9, 0, 0);
const config = parseConfig(
  `
circuit_breaker: { failure_threshold: 5, reset_timeout: 60, max_reset_timeout: 300 }
probes:
  registry:
    image: curlimages/curl
    command: [curl, -fsS, https://registry.example/v2/]
workflows:
  release:
    breaker: staging-api
    retry_after: "Retry-After:\\\\s*(\\\\d+)"
    failure_rules:
      - { output: "connection refused|503", action: count }
    steps:
      - { name: build, image: alpine, command: [build], guarded: false }
      - name: test
        image: alpine
        command: [test]
        depends_on: [build]
        guarded: false
        failure_rules: [{ exit_codes: [75], action: ignore }]
      - { name: deploy, image: alpine, command: [deploy], depends_on: [test] }
  push:
    breaker: registry
    steps: [{ name: push, image: alpine, command: [push] }]
  own-probe:
    probe: { image: alpine, command: [check], timeout_seconds: 5 }
    steps: [{ name: work, image: alpine, command: [work] }]
`,
  "dagger.yaml",
);

/** Each step plays its script of runs; every run is logged by step name. */
class Scripted implements StepExecutor {
  log: string[] = [];
  constructor(private readonly script: Record<string, Partial<StepRun>[]>) {}
  async run(step: ResolvedStep): Promise<StepRun> {
    this.log.push(step.name);
    const next = this.script[step.name]?.shift() ?? {};
    return { exitCode: 0, stdout: "", stderr: "", durationMs: 5, timedOut: false, ...next };
  }
}

function world() {
  let now = T0;
  const clock = () => now;
  return { store: new MemoryStateStore(clock), clock, advance: (ms: number) => (now += ms), opts: { clock, sleep: async () => {} } };
}

const repeat = <T>(n: number, value: T): T[] => Array.from({ length: n }, () => ({ ...value }));

describe("which failures count", () => {
  it("five failures of an unguarded test step leave the breaker closed; each is neutral and says why", async () => {
    const w = world();
    const release = resolveWorkflow(config, "release");
    const exec = new Scripted({ test: repeat(5, { exitCode: 1, stderr: "expected 2, got 3\n" }) });
    for (let i = 0; i < 5; i++) {
      const o = await executeWorkflow(w.store, release, exec, w.opts);
      expect(o.result?.ok).toBe(false);
      expect(o.result?.classification).toEqual({ counts: false, rule: 'step "test" guarded: false' });
      expect(o.view?.status).toBe("closed");
    }
    const [state] = (await w.store.apply({ op: "read", breakers: ["staging-api"] })).states;
    expect(state?.counters).toMatchObject({ ignored: 5, failures: 0 });
    expect(state?.lastIgnored).toMatchObject({ rule: 'step "test" guarded: false', exitCode: 1 });
    expect(exec.log.filter((s) => s === "deploy")).toHaveLength(0);
  });

  it("five failures of the guarded deploy step open it", async () => {
    const w = world();
    const release = resolveWorkflow(config, "release");
    const exec = new Scripted({ deploy: repeat(5, { exitCode: 1, stderr: "rollout failed\n" }) });
    for (let i = 0; i < 5; i++) await executeWorkflow(w.store, release, exec, w.opts);
    const o = await executeWorkflow(w.store, release, exec, w.opts);
    expect(o.rejection?.message).toContain('circuit breaker "staging-api" is open');
    const [state] = (await w.store.apply({ op: "read", breakers: ["staging-api"] })).states;
    expect(state?.lastError?.rule).toBe("default: every failure counts");
  });

  it("a workflow rule that matches the output counts an unguarded step's failure", async () => {
    const w = world();
    const release = resolveWorkflow(config, "release");
    const exec = new Scripted({ build: [{ exitCode: 1, stdout: "fetching deps\n", stderr: "dial tcp: connection refused\n" }] });
    const o = await executeWorkflow(w.store, release, exec, w.opts);
    expect(o.result?.classification).toEqual({ counts: true, rule: 'workflow "release" failure_rules[0] (count)' });
    const [state] = (await w.store.apply({ op: "read", breakers: ["staging-api"] })).states;
    expect(state?.consecutiveFailures).toBe(1);
  });

  it("the step's own rules are checked before the workflow's", async () => {
    const release = resolveWorkflow(config, "release");
    const exec = new Scripted({ test: [{ exitCode: 75, stderr: "503 from the test fixture\n" }] });
    const o = await executeWorkflow(world().store, release, exec, { sleep: async () => {} });
    expect(o.result?.classification).toEqual({ counts: false, rule: 'step "test" failure_rules[0] (ignore)' });
  });
});

describe("Retry-After", () => {
  it("a failure whose output says Retry-After: 120 opens the breaker for 120 s, and the rejection says so", async () => {
    const w = world();
    const release = resolveWorkflow(config, "release");
    const exec = new Scripted({
      deploy: repeat(5, { exitCode: 1, stderr: "HTTP/1.1 429 Too Many Requests\nRetry-After: 120\n" }),
    });
    for (let i = 0; i < 5; i++) await executeWorkflow(w.store, release, exec, w.opts);
    w.advance(1000);
    const o = await executeWorkflow(w.store, release, exec, w.opts);
    expect(o.rejection?.message).toContain(
      'Next probe allowed at 2026-11-30T09:02:00.000Z (in 119 s), as the service asked ("Retry-After: 120" in the output of step "deploy").',
    );
  });

  it("a wait longer than max_reset_timeout is capped, and the message says so", async () => {
    const w = world();
    const release = resolveWorkflow(config, "release");
    const exec = new Scripted({ deploy: repeat(5, { exitCode: 1, stderr: "Retry-After: 7200\n" }) });
    for (let i = 0; i < 5; i++) await executeWorkflow(w.store, release, exec, w.opts);
    const o = await executeWorkflow(w.store, release, exec, w.opts);
    expect(o.rejection?.retryAt).toBe(T0 + 300_000);
    expect(o.rejection?.message).toContain("capped at max_reset_timeout (300 s)");
  });
});

describe("health probe", () => {
  async function openBreaker(w: ReturnType<typeof world>, name: string) {
    const push = resolveWorkflow(config, name);
    const failing = new Scripted({ push: repeat(5, { exitCode: 1 }), work: repeat(5, { exitCode: 1 }) });
    for (let i = 0; i < 5; i++) await executeWorkflow(w.store, push, failing, w.opts);
    w.advance(60_000);
    return push;
  }

  it("a failing probe re-opens the half-open breaker and the workflow's steps never run", async () => {
    const w = world();
    const push = await openBreaker(w, "push");
    const exec = new Scripted({ "health-probe": [{ exitCode: 22, stderr: "curl: (22) 503\n" }] });
    const o = await executeWorkflow(w.store, push, exec, w.opts);
    expect(exec.log).toEqual(["health-probe"]);
    expect(o.result?.ok).toBe(false);
    expect(o.result?.error).toMatch(/^health probe of breaker "registry" exited with code 22, so workflow "push" was not run/);
    expect(o.result?.classification).toEqual({ counts: true, rule: "health probe" });
    expect(o.view?.status).toBe("open");
  });

  it("a passing probe lets the workflow run, and the workflow's outcome is the probe's", async () => {
    const w = world();
    const push = await openBreaker(w, "push");
    const exec = new Scripted({});
    const o = await executeWorkflow(w.store, push, exec, w.opts);
    expect(exec.log).toEqual(["health-probe", "push"]);
    expect(o.result?.steps.map((s) => s.name)).toEqual(["health-probe", "push"]);
    expect(o.view?.status).toBe("closed");
  });

  it("runs only for a probe call: a closed breaker runs the steps alone", async () => {
    const exec = new Scripted({});
    await executeWorkflow(world().store, resolveWorkflow(config, "push"), exec, { sleep: async () => {} });
    expect(exec.log).toEqual(["push"]);
  });

  it("a workflow's own probe wins, and its time limit holds the probe slot longer", async () => {
    const w = world();
    const own = await openBreaker(w, "own-probe");
    expect(own.probe?.command).toEqual(["check"]);
    const exec = new Scripted({});
    const o = await executeWorkflow(w.store, own, exec, w.opts);
    expect(exec.log).toEqual(["health-probe", "work"]);
    expect(o.view?.status).toBe("closed");
  });
});
