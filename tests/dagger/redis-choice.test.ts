import type { Secret, Service } from "@dagger.io/dagger";
import { describe, expect, it } from "vitest";
import { redisOptionsFor, type RedisChoice } from "../../lib/dagger/redis-choice.js";

/** The Redis constructor arguments: each mistake named with its argument and fix, before anything starts. */

const secret = (value: string) => ({ plaintext: async () => value }) as unknown as Secret;

describe("Redis arguments", () => {
  it("turns Sentinels and a master name into store options, default ports filled in", async () => {
    const options = await redisOptionsFor({
      redisSentinels: ["10.0.0.5:26380", "sentinel-b", "[::1]:26381"],
      redisMasterName: "mymaster",
      redisSentinelPassword: secret("sentinel-pw"),
      redisPassword: secret("data-pw"),
      redisMinReplicas: 1,
      redisFailoverTimeout: 45,
    });
    expect(options).toMatchObject({
      sentinels: [
        { host: "10.0.0.5", port: 26380 },
        { host: "sentinel-b", port: 26379 },
        { host: "::1", port: 26381 },
      ],
      masterName: "mymaster",
      sentinelPassword: "sentinel-pw",
      password: "data-pw",
      minReplicas: 1,
      failoverTimeoutMs: 45_000,
      failurePolicy: "fail-closed",
    });
  });

  it("turns Cluster nodes into store options", async () => {
    expect(await redisOptionsFor({ redisClusterNodes: ["10.0.0.5:7000", "10.0.0.6"] })).toMatchObject({
      clusterNodes: [
        { host: "10.0.0.5", port: 7000 },
        { host: "10.0.0.6", port: 6379 },
      ],
    });
  });

  it("chooses no Redis when none is named (an empty list is none)", async () => {
    expect(await redisOptionsFor({})).toBeNull();
    expect(await redisOptionsFor({ redisSentinels: [], redisClusterNodes: [] })).toBeNull();
  });

  const mistakes: [string, RedisChoice, RegExp][] = [
    ["two forms at once", { redisUrl: "redis://a:6379", redisClusterNodes: ["b:7000"] }, /pass one of --redis, --redis-url, --redis-sentinels or --redis-cluster-nodes, not --redis-url and --redis-cluster-nodes/],
    ["Sentinels without a master name", { redisSentinels: ["a:26379"] }, /--redis-sentinels needs --redis-master-name/],
    ["a master name without Sentinels", { redisUrl: "redis://a", redisMasterName: "m" }, /--redis-master-name applies only with --redis-sentinels/],
    ["a master name with a space", { redisSentinels: ["a:26379"], redisMasterName: "my master" }, /--redis-master-name must be a name without spaces/],
    ["a Sentinel password without Sentinels", { redisUrl: "redis://a", redisSentinelPassword: secret("x") }, /--redis-sentinel-password applies only with --redis-sentinels/],
    ["a malformed Sentinel", { redisSentinels: ["a:26379", "b:port"], redisMasterName: "m" }, /--redis-sentinels entry "b:port" is not HOST:PORT; give addresses such as 10\.0\.0\.5:26379/],
    ["a port out of range", { redisClusterNodes: ["a:70000"] }, /--redis-cluster-nodes entry "a:70000" is not HOST:PORT/],
    ["a URL among Cluster nodes", { redisClusterNodes: ["redis://a:7000"] }, /--redis-cluster-nodes entry "redis:\/\/a:7000" is not HOST:PORT/],
    ["negative min replicas", { redisUrl: "redis://a", redisMinReplicas: -1 }, /--redis-min-replicas must be a whole number >= 0 .*got -1/],
    ["fractional min replicas", { redisUrl: "redis://a", redisMinReplicas: 1.5 }, /--redis-min-replicas must be a whole number/],
    ["min replicas without Redis", { redisMinReplicas: 1 }, /--redis-min-replicas applies only to state kept in Redis/],
    ["a failover timeout for one server", { redisUrl: "redis://a", redisFailoverTimeout: 30 }, /--redis-failover-timeout applies only with --redis-sentinels or --redis-cluster-nodes/],
    ["a zero failover timeout", { redisClusterNodes: ["a:7000"], redisFailoverTimeout: 0 }, /--redis-failover-timeout must be a number of seconds above 0 and at most 3600, got 0/],
    ["a failover timeout over an hour", { redisClusterNodes: ["a:7000"], redisFailoverTimeout: 7200 }, /at most 3600, got 7200/],
    ["an unknown failure policy", { redisClusterNodes: ["a:7000"], redisFailurePolicy: "fail-sometimes" }, /--redis-failure-policy must be "fail-closed" or "fail-open", got "fail-sometimes"/],
  ];
  for (const [what, choice, message] of mistakes) {
    it(`refuses ${what}, naming the argument, before a Service is started or a secret read`, async () => {
      let touched = false;
      const redis = { start: async () => ((touched = true), redis), endpoint: async () => "redis://x:1" } as unknown as Service;
      const password = { plaintext: async () => ((touched = true), "pw") } as unknown as Secret;
      const withSideEffects = { ...choice, redisPassword: password };
      await expect(redisOptionsFor(withSideEffects)).rejects.toThrow(message);
      expect(touched).toBe(false);
      // A Service given alongside another form is refused the same way, unstarted.
      if (what === "two forms at once") {
        await expect(redisOptionsFor({ ...choice, redis })).rejects.toThrow(/not --redis and --redis-url and --redis-cluster-nodes/);
        expect(touched).toBe(false);
      }
    });
  }

  it("never repeats a password in its messages", async () => {
    const error = await redisOptionsFor({ redisSentinels: ["a:b"], redisMasterName: "m", redisSentinelPassword: secret("hunter2") }).catch((e: Error) => e);
    expect(String(error)).not.toContain("hunter2");
  });
});
