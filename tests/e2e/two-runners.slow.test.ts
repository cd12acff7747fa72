import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisServer } from "../store/redis-server.js";
import { Engine, isStateExec } from "./harness.js";

// Two CI runners, each with its own engine (its own cache volumes and caches), share one
// breaker through Redis: failures seen on either open it for both.
describe("two runners, one breaker, through Redis", () => {
  let redis: RedisServer;
  const runnerA = new Engine();
  const runnerB = new Engine();
  beforeAll(async () => {
    // No password here: a Secret passed to the constructor cannot cross the double's separate
    // processes (its constructor cache keeps the secret's id only); the Redis store's own
    // tests cover passwords.
    redis = await RedisServer.start();
  });
  afterAll(() => redis?.kill());

  const on = (runner: Engine, ...argv: string[]) =>
    runner.call("--redis-url", `redis://127.0.0.1:${redis.port}`, ...argv);

  it("opens for both after failures seen on either, and neither cache volume holds the state", async () => {
    const fail = ["execute", "--workflow", "flaky", "--config", "tests/e2e/e2e.yaml", "--breaker", "shared-api", "--failure-threshold", "3"];
    const results = [await on(runnerA, ...fail), await on(runnerB, ...fail), await on(runnerA, ...fail)];
    for (const r of results) expect(r.stderr).toContain("service down (exit 3)");

    const refusedOnB = await on(runnerB, ...fail);
    expect(refusedOnB.code).not.toBe(0);
    expect(refusedOnB.stderr).toContain('circuit breaker "shared-api" is open, so workflow "flaky" was not run. Failures: 3/3');

    const status = await on(runnerA, "status", "--breaker", "shared-api", "--format", "json");
    const breaker = (JSON.parse(status.stdout) as { breakers: { state: string; counters: Record<string, number> }[] }).breakers[0];
    expect(breaker).toMatchObject({ state: "open" });
    expect(breaker?.counters).toMatchObject({ admitted: 3, failures: 3, rejections: 1 });

    // Each runner's own engine ran no state exec: the state lives in Redis only.
    for (const runner of [runnerA, runnerB]) {
      expect(runner.execs().filter((e) => isStateExec(e.args))).toHaveLength(0);
    }
  });

  it("shares the breaker the same way when Redis is passed as a Service (--redis=tcp://HOST:PORT)", async () => {
    const viaService = (runner: Engine, ...argv: string[]) => runner.call("--redis", `tcp://127.0.0.1:${redis.port}`, ...argv);
    const fail = ["execute", "--workflow", "flaky", "--config", "tests/e2e/e2e.yaml", "--breaker", "service-api", "--failure-threshold", "2"];
    for (const r of [await viaService(runnerA, ...fail), await viaService(runnerB, ...fail)]) expect(r.stderr).toContain("service down (exit 3)");
    const refused = await viaService(runnerA, ...fail);
    expect(refused.stderr).toContain('circuit breaker "service-api" is open, so workflow "flaky" was not run. Failures: 2/2');
    // The same breaker, read straight from Redis by address.
    const status = await on(runnerB, "status", "--breaker", "service-api", "--format", "json");
    expect((JSON.parse(status.stdout) as { breakers: { counters: Record<string, number> }[] }).breakers[0]?.counters).toMatchObject({ failures: 2, rejections: 1 });
  });

  it("fails closed with a clear message when Redis is down, without running the workflow", async () => {
    redis.kill();
    const r = await on(runnerA, "execute", "--workflow", "flaky", "--config", "tests/e2e/e2e.yaml", "--breaker", "shared-api", "--params", "SERVICE_UP=true");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/the Redis state store at redis:\/\/127\.0\.0\.1:\d+ could not be used within 2000 ms/);
    expect(r.stderr).toContain("the protected call was not run (failure policy: fail-closed)");
    expect(r.stderr).not.toContain("service up");
  });
});
