import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SentinelSet } from "../store/redis-sentinel-set.js";
import { Engine, isStateExec } from "./harness.js";

// Two CI runners, each with its own engine, share one breaker through a Sentinel-managed Redis
// given by its Sentinels' addresses; the primary is SIGKILLed between their calls, and a call
// made while Sentinel is promoting the replica waits for the new primary.
describe("two runners, one breaker, through Redis Sentinel, across a failover", () => {
  let set: SentinelSet;
  const runnerA = new Engine();
  const runnerB = new Engine();
  beforeAll(async () => {
    set = await SentinelSet.start();
  });
  afterAll(async () => {
    await set?.stop();
  });

  const on = (runner: Engine, ...argv: string[]) =>
    runner.call("--redis-sentinels", set.sentinelList, "--redis-master-name", set.masterName, "--redis-failover-timeout", "30", ...argv);
  const fail = ["execute", "--workflow", "flaky", "--config", "tests/e2e/e2e.yaml", "--breaker", "fleet-api", "--failure-threshold", "3"];

  it("opens for both after failures seen on either, before and after the primary is lost", async () => {
    const first = [await on(runnerA, ...fail), await on(runnerB, ...fail)];
    console.log(`calls took ${first.map((r) => r.ms).join(", ")} ms`);
    for (const r of first) expect(r.stderr).toContain("service down (exit 3)");

    const primary = await set.primaryPort();
    await set.node(primary).killAndWait();
    // Made while Sentinel is still promoting the replica: the call waits for the new primary.
    const third = await on(runnerB, ...fail);
    expect(third.stderr).toContain("service down (exit 3)");
    console.log(`the call during the failover took ${third.ms} ms`);
    expect(await set.waitForFailover(primary)).not.toBe(primary);

    const refusedOnA = await on(runnerA, ...fail);
    expect(refusedOnA.code).not.toBe(0);
    expect(refusedOnA.stderr).toContain('circuit breaker "fleet-api" is open, so workflow "flaky" was not run. Failures: 3/3');

    const status = await on(runnerB, "status", "--breaker", "fleet-api", "--format", "json");
    const breaker = (JSON.parse(status.stdout) as { breakers: { state: string; counters: Record<string, number> }[] }).breakers[0];
    expect(breaker).toMatchObject({ state: "open" });
    expect(breaker?.counters).toMatchObject({ admitted: 3, failures: 3, rejections: 1 });
    for (const runner of [runnerA, runnerB]) {
      expect(runner.execs().filter((e) => isStateExec(e.args))).toHaveLength(0);
    }
  });
});
