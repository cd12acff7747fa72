import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Engine, isStateExec } from "./harness.js";

// Every call is a separate `dagger call` process through the engine double, sharing one
// engine state dir, as repeated runs on one engine do.

/** Processes really started for a step (reads of its stdout and exit code are served from the exec cache). */
const stepRuns = (engine: Engine, step: string) =>
  engine.execs().filter((e) => !e.cached && e.args.join(" ").includes(step));

/** State execs per call, grouped by the double process that made them. */
function stateExecsByCall(engine: Engine, since: number): number[] {
  const counts = new Map<string, number>();
  for (const e of engine.execs().slice(since)) {
    if (isStateExec(e.args)) counts.set(e.callId, (counts.get(e.callId) ?? 0) + 1);
  }
  return [...counts.values()];
}

describe("execute under a breaker whose state lives in a cache volume", () => {
  const engine = new Engine();

  it("fails five times, then rejects the sixth run at once, naming the next probe", async () => {
    const timings: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const r = await engine.execute("flaky");
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stderr).toContain('workflow "flaky" failed: step "call-service" exited with code 3');
      expect(r.stderr).toContain("service down (exit 3)");
      timings.push(r.ms);
    }
    expect(stepRuns(engine, "service down")).toHaveLength(5);
    const before = engine.execs().length;

    const rejected = await engine.execute("flaky");
    expect(rejected.code).not.toBe(0);
    expect(rejected.stderr).toMatch(
      /circuit breaker "flaky" is open, so workflow "flaky" was not run\. Failures: 5\/5 consecutive failures\. Last error: .*exited with code 3.*Next probe allowed at \d{4}-\d\d-\d\dT[\d:.]+Z \(in \d+ s\)/,
    );
    const after = engine.execs().slice(before);
    expect(after.filter((e) => !isStateExec(e.args)), "the workflow must not run").toHaveLength(0);
    expect(after.filter((e) => isStateExec(e.args))).toHaveLength(1);
    console.log(`admitted (failing) execute: ${timings.join(", ")} ms; rejected execute: ${rejected.ms} ms`);
  });

  it("spends at most 2 state execs per admitted execute and 1 per rejection", async () => {
    // The five admitted and one rejected call of the test above.
    expect(stateExecsByCall(engine, 0).sort()).toEqual([1, 2, 2, 2, 2, 2]);
  });

  it("after the open time admits exactly the permitted probes among runs started together, and closes", async () => {
    const nextProbeAt = (await engine.status("flaky")).breakers[0]?.nextProbeAt;
    expect(nextProbeAt).toBeTruthy();
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(nextProbeAt ?? "") - Date.now() + 500)));
    const runs = await Promise.all(
      [1, 2, 3, 4].map(() => engine.execute("flaky", "--params", "SERVICE_UP=true,SLEEP=40")),
    );
    const ok = runs.filter((r) => r.code === 0);
    const refused = runs.filter((r) => r.code !== 0);
    expect(ok.map((r) => r.stdout.trim())).toEqual(["service up", "service up"]);
    for (const r of refused) expect(r.stderr).toContain('circuit breaker "flaky" is half-open and its 2 probe slot(s) are taken');
    const status = await engine.status("flaky");
    expect(status.breakers[0]).toMatchObject({ name: "flaky", state: "closed", probesInFlight: 0 });
    expect(status.breakers[0]?.counters).toMatchObject({ probes: 2, rejections: 3 });
  });

  it("re-opens when a probe fails", async () => {
    expect((await engine.call("trip", "--breaker", "flaky", "--duration", "1")).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1_500));
    const probe = await engine.execute("flaky");
    expect(probe.code).not.toBe(0);
    expect(probe.stderr).toContain("exited with code 3");
    // The stored history, not `status`: by the time a status call starts, the short open time may be over.
    const history = await engine.call("history", "--breaker", "flaky");
    expect(history.stdout.trim().split("\n").filter((line) => /\shalf-open\s+open\s/.test(line)).at(-1)).toMatch(/\shalf-open\s+open\s+probe failed: workflow "flaky" failed: step "call-service" exited with code 3/);
  });

  it("records exactly eight outcomes for eight runs started together", async () => {
    const runs = await Promise.all(
      [1, 2, 3, 4, 5, 6, 7, 8].map((i) =>
        engine.execute("flaky", "--breaker", "eight", "--failure-threshold", "100", "--params", `SERVICE_UP=${i % 2 === 0}`),
      ),
    );
    expect(runs.filter((r) => r.code === 0)).toHaveLength(4);
    const counters = (await engine.status("eight")).breakers[0]?.counters;
    expect(counters).toMatchObject({ admitted: 8, successes: 4, failures: 4, rejections: 0 });
  });

  it("status, trip, reset and disable change what the next execute does", async () => {
    expect((await engine.call("trip", "--breaker", "eight")).code).toBe(0);
    const tripped = await engine.execute("flaky", "--breaker", "eight", "--params", "SERVICE_UP=true");
    expect(tripped.stderr).toContain('circuit breaker "eight" was tripped by hand (forced open), so workflow "flaky" was not run');
    expect(tripped.stderr).toContain("It stays open until reset: run `reset --breaker eight`");

    const table = await engine.call("status");
    expect(table.stdout).toMatch(/^BREAKER\s+STATE\s+FAILURES\s+LAST ERROR\s+OPENED AT\s+NEXT PROBE\s+PROBES/);
    expect(table.stdout).toMatch(/\neight\s+forced-open\s+/);

    expect((await engine.call("reset", "--breaker", "eight")).code).toBe(0);
    const admitted = await engine.execute("flaky", "--breaker", "eight", "--params", "SERVICE_UP=true");
    expect(admitted.code, admitted.stderr).toBe(0);

    expect((await engine.call("disable", "--breaker", "flaky")).code).toBe(0);
    const passes = await engine.execute("flaky");
    expect(passes.stderr).toContain("service down");
    expect((await engine.status("flaky")).breakers[0]?.state).toBe("disabled");
  });

  it("names a secret from its env: URI, so --secrets alone is enough; a file: secret needs --secret-names", async () => {
    const saved = process.env.DEPLOY_TOKEN;
    process.env.DEPLOY_TOKEN = "e2e-token-20-chars!!";
    const file = join(engine.stateDir, "token");
    writeFileSync(file, "from-a-file");
    try {
      const fromEnv = await engine.execute("needs-token", "--secrets", "env:DEPLOY_TOKEN");
      expect(fromEnv.code, fromEnv.stderr).toBe(0);
      expect(fromEnv.stdout).toBe("token of 20 characters\n");

      const unnamed = await engine.execute("needs-token", "--secrets", `file:${file}`);
      expect(unnamed.code).not.toBe(0);
      expect(unnamed.stderr).toContain("secret 1 of 1 in --secrets is a file: secret, so its env name cannot be taken from its URI: pass --secret-names");
      expect(unnamed.stderr).not.toContain(file);

      const named = await engine.execute("needs-token", "--secret-names", "DEPLOY_TOKEN", "--secrets", `file:${file}`);
      expect(named.code, named.stderr).toBe(0);
      expect(named.stdout).toBe("token of 11 characters\n");
    } finally {
      if (saved === undefined) delete process.env.DEPLOY_TOKEN;
      else process.env.DEPLOY_TOKEN = saved;
    }
  });

  it("retries a workflow inside one breaker call and ends a step at its timeout", async () => {
    const run = await engine.call("run", "--workflow", "always-fails", "--config", "tests/e2e/e2e.yaml");
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ success: false, attempts: 3, failedStep: "push", exitCode: 1, breaker: "retry-demo" });
    expect(stepRuns(engine, "registry said 503")).toHaveLength(3);
    const counters = (await engine.status("retry-demo")).breakers[0]?.counters;
    expect(counters).toMatchObject({ admitted: 1, failures: 1 });

    const hung = await engine.execute("hangs");
    expect(hung.code).not.toBe(0);
    expect(hung.stderr).toContain('step "wait" timed out after 2 s');
    expect(hung.ms).toBeLessThan(60_000);
  });
});
