import { describe, expect, it } from "vitest";
import { Engine } from "./harness.js";

// Failure classification, Retry-After and the health probe through `dagger call` on the
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
