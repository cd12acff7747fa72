import { describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config/parse-config.js";
import { resolveWorkflow, type ResolvedStep } from "../../lib/config/resolve-workflow.js";
import { backoffDelayMs, seededRandom } from "../../lib/workflow/backoff.js";
import { expectedDurationMs, runWorkflow, type StepExecutor, type StepRun } from "../../lib/workflow/run-workflow.js";

const yaml = `
retry: { max_retries: 2, backoff_factor: 1, jitter: 0.5 }
workflows:
  pipeline:
    steps:
      - { name: lint, image: alpine, command: [lint] }
      - { name: test, image: alpine, command: [test], timeout_seconds: 60, retries: 1 }
      - { name: push, image: alpine, command: [push], depends_on: [lint, test], timeout_seconds: 30 }
`;
const workflow = resolveWorkflow(parseConfig(yaml, "pipeline.yaml"), "pipeline");

/** Plays a script of exit codes per step and records the order steps started and ended. */
class ScriptedExecutor implements StepExecutor {
  events: string[] = [];
  constructor(private readonly script: Record<string, number[]>) {}
  async run(step: ResolvedStep): Promise<StepRun> {
    this.events.push(`start ${step.name}`);
    await new Promise((r) => setTimeout(r, step.name === "lint" ? 5 : 1));
    const exitCode = this.script[step.name]?.shift() ?? 0;
    this.events.push(`end ${step.name}`);
    return { exitCode, stdout: `${step.name} out\n`, stderr: exitCode ? `${step.name} broke\nline 2\n` : "", durationMs: 1, timedOut: false };
  }
}

const noSleep = { sleep: async () => {}, random: seededRandom(7) };

describe("runWorkflow", () => {
  it("runs independent steps together and dependants after them", async () => {
    const exec = new ScriptedExecutor({});
    const result = await runWorkflow(workflow, exec, noSleep);
    expect(result.ok).toBe(true);
    expect(exec.events.slice(0, 2).sort()).toEqual(["start lint", "start test"]);
    expect(exec.events.indexOf("start push")).toBeGreaterThan(exec.events.indexOf("end lint"));
    expect(result.output).toBe("--- step lint ---\nlint out\n\n--- step test ---\ntest out\n\n--- step push ---\npush out\n");
  });

  it("retries a step up to its own retries before failing the attempt", async () => {
    const exec = new ScriptedExecutor({ test: [1, 0] });
    const result = await runWorkflow(workflow, exec, noSleep);
    expect(result.ok).toBe(true);
    expect(result.attempts).toBe(1);
    expect(result.steps.find((s) => s.name === "test")?.attempts).toBe(2);
  });

  it("retries the whole workflow with backoff, then reports the failing step", async () => {
    const delays: number[] = [];
    const exec = new ScriptedExecutor({ push: [3, 3, 3] });
    const result = await runWorkflow(workflow, exec, { sleep: async (ms) => void delays.push(ms), random: () => 0.5 });
    expect(result.ok).toBe(false);
    expect(result.attempts).toBe(3);
    expect(delays).toEqual([1000, 2000]);
    expect(result.failedStep).toBe("push");
    expect(result.exitCode).toBe(3);
    expect(result.error).toBe('workflow "pipeline" failed: step "push" exited with code 3 (1 attempt(s))\npush out\npush broke\nline 2');
  });

  it("does not run dependants of a failed layer", async () => {
    const exec = new ScriptedExecutor({ lint: [1, 1, 1] });
    const result = await runWorkflow(workflow, exec, noSleep);
    expect(result.ok).toBe(false);
    expect(exec.events).not.toContain("start push");
  });
});

describe("retry timing", () => {
  it("doubles the delay and spreads it by the jitter, reproducibly with a seed", () => {
    const policy = { backoffFactorMs: 1000, jitter: 0.2 };
    const a = [1, 2, 3, 4].map((n) => backoffDelayMs(policy, n, seededRandom(42)));
    const b = [1, 2, 3, 4].map((n) => backoffDelayMs(policy, n, seededRandom(42)));
    expect(a).toEqual(b);
    [1000, 2000, 4000, 8000].forEach((base, i) => {
      expect(a[i]).toBeGreaterThanOrEqual(base * 0.8);
      expect(a[i]).toBeLessThanOrEqual(base * 1.2);
    });
  });

  it("bounds a workflow's run time from its step timeouts, or says it cannot", () => {
    // per attempt: max(lint: none) -> unknown
    expect(expectedDurationMs(workflow)).toBe(0);
    const timed = resolveWorkflow(parseConfig(yaml.replace("command: [lint] }", "command: [lint], timeout_seconds: 10 }"), "p.yaml"), "pipeline");
    // layer 1: max(10, 60*2) = 120 s; layer 2: 30 s; 3 attempts; backoff 1.5 s + 3 s at full jitter
    expect(expectedDurationMs(timed)).toBe(150_000 * 3 + 1500 + 3000);
  });
});

describe("workflow timeout_seconds", () => {
  const limited = `
retry: { max_retries: 3, backoff_factor: 10, jitter: 0 }
workflows:
  w:
    timeout_seconds: 100
    steps:
      - { name: slow, image: alpine, command: [slow], timeout_seconds: 60 }
      - { name: after, image: alpine, command: [after], depends_on: [slow] }
`;

  /** A fake clock that each step run moves on by its scripted duration. */
  function timed(durations: Record<string, number[]>, exitCodes: Record<string, number[]>) {
    let now = 0;
    const seen: { name: string; timeoutSeconds: number | null }[] = [];
    const executor: StepExecutor = {
      async run(step) {
        seen.push({ name: step.name, timeoutSeconds: step.timeoutSeconds });
        const ms = durations[step.name]?.shift() ?? 1000;
        now += ms;
        const exitCode = exitCodes[step.name]?.shift() ?? 0;
        return { exitCode, stdout: "", stderr: "", durationMs: ms, timedOut: exitCode === 124 };
      },
    };
    const sleep = async (ms: number) => void (now += ms);
    return { executor, seen, options: { clock: () => now, sleep } };
  }

  it("gives each step only what is left of the workflow's time", async () => {
    const w = resolveWorkflow(parseConfig(limited, "t.yaml"), "w");
    const t = timed({ slow: [70_000] }, {});
    const result = await runWorkflow(w, t.executor, t.options);
    expect(result.ok).toBe(true);
    expect(t.seen).toEqual([
      { name: "slow", timeoutSeconds: 60 },
      { name: "after", timeoutSeconds: 30 },
    ]);
  });

  it("covers retries and backoff: no retry starts once the time is spent, and the failure names the limit", async () => {
    const w = resolveWorkflow(parseConfig(limited, "t.yaml"), "w");
    // attempt 1: slow fails after 40 s; 10 s backoff; attempt 2 gets 50 s, fails by timing out
    const t = timed({ slow: [40_000, 50_000] }, { slow: [1, 124] });
    const result = await runWorkflow(w, t.executor, t.options);
    expect(t.seen.map((s) => s.timeoutSeconds)).toEqual([60, 50]);
    expect(result.ok).toBe(false);
    expect(result.attempts).toBe(2);
    expect(result.error).toMatch(/^workflow "w" failed: step "slow" timed out after 50 s \(the workflow's timeout_seconds: 100 s\)/);
  });

  it("bounds the expected duration used for probe deadlines, plus the health probe's time", () => {
    const w = resolveWorkflow(parseConfig(limited, "t.yaml"), "w");
    expect(expectedDurationMs(w)).toBe(100_000);
    const probed = resolveWorkflow(parseConfig(limited.replace("    timeout_seconds: 100\n", "    timeout_seconds: 100\n    probe: { image: curl, command: [curl], timeout_seconds: 5 }\n"), "t.yaml"), "w");
    expect(expectedDurationMs(probed)).toBe(105_000);
  });
});

describe("retry_when", () => {
  const yamlWithConditions = `
retry: { max_retries: 2, backoff_factor: 0 }
workflows:
  w:
    retry_when: [{ output: "toomanyrequests" }]
    steps:
      - { name: push, image: alpine, command: [push], retries: 2 }
      - { name: own, image: alpine, command: [own], retries: 2, retry_when: [{ exit_codes: [28] }], depends_on: [push] }
`;
  const w = resolveWorkflow(parseConfig(yamlWithConditions, "r.yaml"), "w");

  function scripted(runs: Record<string, { exitCode: number; stderr?: string }[]>) {
    const log: string[] = [];
    const executor: StepExecutor = {
      async run(step) {
        log.push(step.name);
        const next = runs[step.name]?.shift() ?? { exitCode: 0 };
        return { exitCode: next.exitCode, stdout: "", stderr: next.stderr ?? "", durationMs: 1, timedOut: false };
      },
    };
    return { executor, log };
  }

  it("retries only failures that match, at step and workflow level", async () => {
    const s = scripted({ push: [{ exitCode: 1, stderr: "unauthorized" }] });
    const result = await runWorkflow(w, s.executor, noSleep);
    expect(s.log).toEqual(["push"]);
    expect(result.attempts).toBe(1);
    const t = scripted({ push: [{ exitCode: 1, stderr: "TOOMANYREQUESTS" }, { exitCode: 1, stderr: "toomanyrequests" }] });
    expect((await runWorkflow(w, t.executor, noSleep)).ok).toBe(true);
    expect(t.log).toEqual(["push", "push", "push", "own"]);
  });

  it("a step's own conditions replace the workflow's for that step", async () => {
    const s = scripted({ own: [{ exitCode: 28 }, { exitCode: 1, stderr: "toomanyrequests" }] });
    const result = await runWorkflow(w, s.executor, noSleep);
    // own retries exit 28 once, then stops at a failure its own conditions do not match; the
    // workflow's retry_when matches that output, so the whole workflow runs again.
    expect(s.log).toEqual(["push", "own", "own", "push", "own"]);
    expect(result.ok).toBe(true);
  });
});
