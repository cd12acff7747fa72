import * as z from "zod/mini";
import type { StoreChoice } from "../../src/module-api.js";
import { keyTtlProblem } from "../store/redis/key-ttl.js";
import type { FailurePolicy, HostPort, RedisStoreOptions } from "../store/redis/options.js";

/**
 * The Redis the caller chose with constructor arguments, checked before anything is started or
 * connected: one server (`--redis-url`, or `--redis` as a Service), a Sentinel-managed primary
 * (`--redis-sentinels` and `--redis-master-name`), or a Cluster (`--redis-cluster-nodes`). A bad
 * value is the caller's mistake, so it gets a message naming the argument and the fix, and
 * never repeats a password.
 */

/** The Redis part of the constructor's arguments, as the face hands them over. */
export type RedisChoice = Pick<
  StoreChoice,
  | "redis"
  | "redisUrl"
  | "redisPassword"
  | "redisTls"
  | "redisFailurePolicy"
  | "redisKeyTtl"
  | "redisSentinels"
  | "redisMasterName"
  | "redisSentinelPassword"
  | "redisClusterNodes"
  | "redisMinReplicas"
  | "redisFailoverTimeout"
> & { redisTimeoutMs?: number };

/** What the module does when Redis is down and the caller chose nothing: see FailurePolicy for why. */
export const MODULE_DEFAULT_FAILURE_POLICY: FailurePolicy = "fail-closed";

/** `--redis-failover-timeout` is at most an hour: a call that waits longer is a call that hangs. */
const MAX_FAILOVER_TIMEOUT_SECONDS = 3600;

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?))(?::(\d{1,5}))?$/;

const hostPort = (defaultPort: number) =>
  z.pipe(
    z.string().check(z.trim(), z.regex(HOST_PORT)),
    z.transform((text): HostPort => {
      const [, v6, name, port] = HOST_PORT.exec(text) ?? [];
      return { host: v6 ?? name ?? "", port: port === undefined ? defaultPort : Number(port) };
    }),
  ).check(z.refine((a) => a.port >= 1 && a.port <= 65535));

const wholeAtLeast = (min: number) => z.number().check(z.int(), z.gte(min));
const masterName = z.string().check(z.trim(), z.minLength(1), z.regex(/^[^\s]+$/));
const failoverSeconds = z.number().check(z.gt(0), z.lte(MAX_FAILOVER_TIMEOUT_SECONDS));

/** The addresses of a list argument, each checked, or an error naming the entry and the form wanted. */
function addresses(flag: string, entries: string[], defaultPort: number, example: string): HostPort[] {
  return entries.map((entry) => {
    const parsed = hostPort(defaultPort).safeParse(entry);
    if (!parsed.success) {
      throw new Error(`${flag} entry ${JSON.stringify(entry)} is not HOST:PORT; give addresses such as ${example}`);
    }
    return parsed.data;
  });
}

function given(list: string[] | undefined): list is string[] {
  return list !== undefined && list.length > 0;
}

/** The ways of naming a Redis that the caller used. */
function forms(choice: RedisChoice): string[] {
  return [
    choice.redis ? "--redis" : null,
    choice.redisUrl ? "--redis-url" : null,
    given(choice.redisSentinels) ? "--redis-sentinels" : null,
    given(choice.redisClusterNodes) ? "--redis-cluster-nodes" : null,
  ].filter((f): f is string => f !== null);
}

/** Refuses arguments that do not fit together or are out of range; runs before any Service is started. */
export function checkRedisChoice(choice: RedisChoice): void {
  const used = forms(choice);
  if (used.length > 1) {
    throw new Error(`pass one of --redis, --redis-url, --redis-sentinels or --redis-cluster-nodes, not ${used.join(" and ")}`);
  }
  const sentinel = given(choice.redisSentinels);
  const cluster = given(choice.redisClusterNodes);
  if (sentinel && choice.redisMasterName === undefined) {
    throw new Error(
      "--redis-sentinels needs --redis-master-name: the name the Sentinels monitor the primary under (`sentinel monitor NAME ...` in sentinel.conf)",
    );
  }
  if (!sentinel && choice.redisMasterName !== undefined) {
    throw new Error("--redis-master-name applies only with --redis-sentinels: pass the Sentinels' addresses too, or drop it");
  }
  if (!sentinel && choice.redisSentinelPassword) {
    throw new Error("--redis-sentinel-password applies only with --redis-sentinels; the password of Redis itself is --redis-password");
  }
  if (sentinel && !masterName.safeParse(choice.redisMasterName).success) {
    throw new Error(`--redis-master-name must be a name without spaces, e.g. mymaster, got ${JSON.stringify(choice.redisMasterName)}`);
  }
  if (sentinel) addresses("--redis-sentinels", choice.redisSentinels ?? [], 26379, "10.0.0.5:26379,10.0.0.6:26379");
  if (cluster) addresses("--redis-cluster-nodes", choice.redisClusterNodes ?? [], 6379, "10.0.0.5:7000,10.0.0.6:7000");
  if (choice.redisKeyTtl != null) {
    if (used.length === 0) {
      throw new Error(
        "--redis-key-ttl applies only to state kept in Redis: pass --redis-url, --redis, --redis-sentinels or --redis-cluster-nodes too, " +
          "or drop --redis-key-ttl " +
          "(breakers in a cache volume are removed with `prune --unused-for`)",
      );
    }
    const problem = keyTtlProblem(choice.redisKeyTtl, "--redis-key-ttl");
    if (problem !== null) throw new Error(problem);
  }
  if (choice.redisMinReplicas != null) {
    if (used.length === 0) throw new Error("--redis-min-replicas applies only to state kept in Redis: pass a Redis too, or drop it");
    if (!wholeAtLeast(0).safeParse(choice.redisMinReplicas).success) {
      throw new Error(
        `--redis-min-replicas must be a whole number >= 0 (replicas that must acknowledge each write), got ${choice.redisMinReplicas}`,
      );
    }
  }
  if (choice.redisFailoverTimeout != null) {
    if (!sentinel && !cluster) {
      throw new Error(
        "--redis-failover-timeout applies only with --redis-sentinels or --redis-cluster-nodes: one Redis server has no failover to wait for",
      );
    }
    if (!failoverSeconds.safeParse(choice.redisFailoverTimeout).success) {
      throw new Error(
        `--redis-failover-timeout must be a number of seconds above 0 and at most ${MAX_FAILOVER_TIMEOUT_SECONDS}, got ${choice.redisFailoverTimeout}`,
      );
    }
  }
  const policy = choice.redisFailurePolicy;
  if (policy !== undefined && policy !== "fail-closed" && policy !== "fail-open") {
    throw new Error(`--redis-failure-policy must be "fail-closed" or "fail-open", got ${JSON.stringify(policy)}`);
  }
}

/**
 * The store's options for the chosen Redis, or null when none was chosen. A Service is started
 * here, and secrets are read here, after every check has passed.
 */
export async function redisOptionsFor(choice: RedisChoice): Promise<RedisStoreOptions | null> {
  checkRedisChoice(choice);
  let address: RedisStoreOptions;
  if (choice.redis) {
    await choice.redis.start();
    address = { url: await choice.redis.endpoint({ scheme: choice.redisTls ? "rediss" : "redis" }) };
  } else if (choice.redisUrl) {
    address = { url: choice.redisUrl };
  } else if (given(choice.redisSentinels)) {
    address = {
      sentinels: addresses("--redis-sentinels", choice.redisSentinels, 26379, ""),
      masterName: (choice.redisMasterName ?? "").trim(),
      ...(choice.redisSentinelPassword ? { sentinelPassword: await choice.redisSentinelPassword.plaintext() } : {}),
    };
  } else if (given(choice.redisClusterNodes)) {
    address = { clusterNodes: addresses("--redis-cluster-nodes", choice.redisClusterNodes, 6379, "") };
  } else {
    return null;
  }
  const chosen = choice.redisFailurePolicy;
  const failurePolicy: FailurePolicy = chosen === "fail-open" || chosen === "fail-closed" ? chosen : MODULE_DEFAULT_FAILURE_POLICY;
  return {
    ...address,
    ...(choice.redisPassword ? { password: await choice.redisPassword.plaintext() } : {}),
    tls: choice.redisTls ?? false,
    failurePolicy,
    ...(choice.redisTimeoutMs === undefined ? {} : { timeoutMs: choice.redisTimeoutMs }),
    ...(choice.redisKeyTtl == null ? {} : { keyTtlSeconds: choice.redisKeyTtl }),
    ...(choice.redisMinReplicas == null ? {} : { minReplicas: choice.redisMinReplicas }),
    ...(choice.redisFailoverTimeout == null ? {} : { failoverTimeoutMs: choice.redisFailoverTimeout * 1000 }),
  };
}
