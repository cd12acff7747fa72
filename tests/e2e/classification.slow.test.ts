import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runDaggerCall, volumeDir } from "../../double/index.js";
import { CONFIG, Engine, MODULE_NAMESPACE, type StatusJson } from "./harness.js";

// Failure classification, Retry-After, the health probe and the fleet policies (time windows,
// rate limits, retry budgets, fallbacks) through `dagger call` on the
// engine double: every call a separate process sharing one engine state dir.

/** Processes really started whose command line contains `marker`. */
const runsOf = (engine: Engine, marker: string, since = 0) =>
  engine.execs().slice(since).filter((e) => !e.cached && e.args.join(" ").includes(marker));

describe("which failures count, through the CLI", () => {
  const engine = new Engine();

  it("an unguarded test step failing five times leaves its breaker closed; a guarded deploy failing five times opens it for the 120 s it asked for", async () => {
    const failFive = async (workflow: string) => {
      for (let i = 0; i < 5; i++) {
        const r = await engine.execute(workflow);
        expect(r.code, r.stdout).not.toBe(0);
      }
      return engine.execute(workflow);
    };
    const [tests, deploy] = await Promise.all([failFive("release-tests-fail"), failFive("release-deploy-fails")]);

    expect(tests.stderr).toContain('workflow "release-tests-fail" failed: step "test" exited with code 1');
    const testsBreaker = (await engine.status("release-tests")).breakers[0];
    expect(testsBreaker?.state).toBe("closed");
    expect(testsBreaker?.counters).toMatchObject({ ignored: 6, failures: 0 });
    // Both workflows run the same test step; only release-tests-fail's fails.
    expect(runsOf(engine, "expected 2, got 3").filter((e) => e.exitCode !== 0)).toHaveLength(6);

    // The open time is the 120 s the service asked for, whenever the refused call got to run.
    const refusal = /circuit breaker "release-deploy" is open, so workflow "release-deploy-fails" was not run\..*Opened at (\S+)\. Next probe allowed at (\S+) \(in (\d+) s\), as the service asked \("Retry-After: 120" in the output of step "deploy"\)\./.exec(deploy.stderr);
    expect(refusal, deploy.stderr).not.toBeNull();
    const [, openedAt, nextProbeAt, inSeconds] = refusal!;
    expect(Date.parse(nextProbeAt!) - Date.parse(openedAt!)).toBe(120_000);
    expect(Number(inSeconds)).toBeGreaterThan(0);
    expect(Number(inSeconds)).toBeLessThanOrEqual(120);
    const deployBreaker = (await engine.status("release-deploy")).breakers[0];
    expect(deployBreaker?.state).toBe("open");
    expect(runsOf(engine, "Too Many Requests")).toHaveLength(5);
  });

  it("a failing health probe re-opens the half-open breaker and the workflow's step never runs", async () => {
    const first = await engine.execute("probed");
    expect(first.code).not.toBe(0);
    expect(runsOf(engine, "probed-step-ran")).toHaveLength(1);
    const status = await engine.status("probed");
    const wait = Date.parse(status.breakers[0]?.nextProbeAt ?? "") - Date.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait) + 500));

    const before = engine.execs().length;
    const probed = await engine.execute("probed");
    expect(probed.code).not.toBe(0);
    expect(probed.stderr).toContain('health probe of breaker "probed" exited with code 7, so workflow "probed" was not run');
    expect(runsOf(engine, "registry still down", before)).toHaveLength(1);
    expect(runsOf(engine, "probed-step-ran", before)).toHaveLength(0);
    const after = (await engine.status("probed")).breakers[0];
    expect(after?.state).toBe("open");
    expect(after?.counters).toMatchObject({ probes: 1, failures: 2 });
  });
});

describe("fleet policies through the CLI (issue 18): retry budget, rate limit, fallback, time window", () => {
  const engine = new Engine();

  // The first call builds the module; done alone, so the racing calls below time only themselves.
  beforeAll(async () => {
    const warm = await engine.call("list-workflows", "--config", CONFIG);
    expect(warm.code, warm.stderr).toBe(0);
  }, 600_000);

  /** The lines the steps of `workflow` appended to the shared policy log volume: one per step run. */
  const logged = (workflow: string): string[] => {
    const file = join(volumeDir(engine.stateDir, "e2e-policy-log", MODULE_NAMESPACE), workflow);
    return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean) : [];
  };

  it("retry budget: eight racing always-failing callers make exactly the budget's 3 retries between them, never more", async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => engine.execute("budgeted")));
    const spent = 'no retry: the retry budget of breaker "budgeted" is spent';
    for (const r of results) {
      expect(r.code, r.stderr.slice(-2_000)).not.toBe(0);
      expect(r.stderr).toContain('workflow "budgeted" failed: step "call" exited with code 1');
    }
    // max_retries alone would allow 8 × 4 = 32 attempts; the budget (ratio 0, floor 3) allows 8 first attempts + 3 retries.
    expect(logged("budgeted")).toHaveLength(8 + 3);
    // Every caller but one that got all three retries is refused its next one, and says so.
    const refused = results.filter((r) => r.stderr.includes(spent));
    expect(refused.length).toBeGreaterThanOrEqual(7);
    const status = await engine.status("budgeted");
    expect(status.breakers[0]).toMatchObject({ state: "closed" });
    expect(status.breakers[0]?.counters).toMatchObject({ admitted: 8, failures: 8, retries: 3, retryBudgetRefusals: refused.length });
  });

  it("rate limit: the third call within the hour is refused at once, names the next slot, runs nothing and is no failure", async () => {
    const before = Date.now();
    const first = await engine.execute("rated");
    const afterFirst = Date.now();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe("rated-ran");
    const second = await engine.execute("rated");
    expect(second.code, second.stderr).toBe(0);
    const third = await engine.execute("rated");
    expect(third.code).not.toBe(0);
    expect(third.stderr).toContain('circuit breaker "rated" has admitted its 2 call(s) per 3600 s (rate_limit), so');
    expect(third.stderr).toContain("2 of 2 calls of the last 3600 s are used.");
    // The first call's 60 s bucket leaves the period 3600 + 60 s after that call was admitted.
    const next = /The next slot frees at (\S+) \(in \d+ s\)/.exec(third.stderr);
    expect(next, third.stderr).not.toBeNull();
    const frees = Date.parse(next?.[1] ?? "");
    expect(frees).toBeGreaterThanOrEqual(before + 3_660_000);
    expect(frees).toBeLessThanOrEqual(afterFirst + 3_660_000);
    expect(logged("rated")).toHaveLength(2);
    const status = await engine.status("rated");
    expect(status.breakers[0]).toMatchObject({ state: "closed" });
    expect(status.breakers[0]?.counters).toMatchObject({ admitted: 2, successes: 2, rateLimitRefusals: 1, failures: 0, rejections: 0 });
  });

  it("fallback: a call its open breaker refuses runs the fallback, told why, and exits 0 with the fallback's output", async () => {
    // The module's own stderr (its warnings) reaches the caller's progress output; the double shows it only when verbose.
    const executeVerbose = (workflow: string) =>
      runDaggerCall(["execute", "--workflow", workflow, "--config", CONFIG], {
        env: { DAGGER_DOUBLE_STATE_DIR: engine.stateDir, DAGGER_DOUBLE_VERBOSE: "1" },
        timeoutMs: 240_000,
      });
    const failed = await executeVerbose("fb-primary");
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain("primary down");
    // A failure is not a refusal: without fallback_on_failure the fallback does not run.
    expect(failed.stderr).not.toContain("fallback workflow");

    const fellBack = await executeVerbose("fb-primary");
    expect(fellBack.code, fellBack.stderr).toBe(0);
    const told = fellBack.stdout.trim().split("\n");
    expect(told.slice(0, 4)).toEqual(["fallback ran", "name=fb-primary", "state=open", expect.stringMatching(/^retry_at=\d{4}-\d\d-\d\dT[\d:.]+Z$/)]);
    expect(told[4]).toMatch(/^reason=circuit breaker "fb-primary" is open/);
    expect(told[4]).toContain('Last error: workflow "fb-primary" failed: step "call" exited with code 1');
    expect(fellBack.stderr).toContain('warning: fallback workflow "fb-fallback" ran instead of "fb-primary": circuit breaker "fb-primary" is open');
    expect(logged("fb-primary")).toHaveLength(1);

    const listed = await engine.call("status", "--prefix", "fb-", "--format", "json");
    expect(listed.code, listed.stderr).toBe(0);
    const breakers = (JSON.parse(listed.stdout) as StatusJson).breakers;
    const primary = breakers.find((b) => b.name === "fb-primary");
    const fallback = breakers.find((b) => b.name === "fb-fallback");
    expect(primary).toMatchObject({ name: "fb-primary", state: "open" });
    expect(primary?.counters).toMatchObject({ admitted: 1, failures: 1, rejections: 1, fallbacks: 1 });
    expect(fallback).toMatchObject({ name: "fb-fallback", state: "closed" });
    expect(fallback?.counters).toMatchObject({ admitted: 1, successes: 1, failures: 0, fallbacks: 0 });
  });

  it("failure_count: two failures within the window open the breaker though a success fell between them", async () => {
    for (const ok of ["false", "true", "false"]) {
      const r = await engine.execute("windowed", "--params", `OK=${ok}`);
      expect(r.code === 0, `OK=${ok}: ${r.stderr.slice(-2_000)}`).toBe(ok === "true");
    }
    // Consecutive counting would stand at 1 failure here and stay closed.
    const status = await engine.status("windowed");
    expect(status.breakers[0]).toMatchObject({ state: "open" });
    expect(status.breakers[0]?.counters).toMatchObject({ admitted: 3, successes: 1, failures: 2 });
  });

  it("runs the shipped config's retry-budget and fallback examples with its alpine images", async () => {
    const shipped = (workflow: string, ...params: string[]) =>
      engine.call("execute", "--workflow", workflow, "--config", "config/dagger.yaml", ...params.flatMap((p) => ["--params", p]));
    const fetched = await shipped("fetch-dependencies");
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(fetched.stdout).toBe("fetched 42 packages\n");
    // Three retries (1 + 2 + 4 s of backoff), all within the budget's floor of 6 a minute.
    const down = await shipped("fetch-dependencies", "MIRROR_UP=false");
    expect(down.code).not.toBe(0);
    expect(down.stderr).toContain("fetch from mirror: connection refused");
    expect((await engine.status("fetch-dependencies")).breakers[0]?.counters).toMatchObject({ admitted: 2, failures: 1, retries: 3, retryBudgetRefusals: 0 });

    for (let i = 0; i < 3; i++) expect((await shipped("deploy-preview", "PREVIEW_UP=false")).code).not.toBe(0);
    const served = await shipped("deploy-preview", "PREVIEW_UP=false");
    expect(served.code, served.stderr).toBe(0);
    const [url, because] = served.stdout.trim().split("\n");
    expect(url).toBe("serving the last good preview: https://preview.example.com/demo-1.4.1");
    expect(because).toMatch(/^because breaker deploy-preview is open \(retry at \d{4}-[\d-]+T[\d:.]+Z\): circuit breaker "deploy-preview" is open, so workflow "deploy-preview" was not run\./);
  });
});
