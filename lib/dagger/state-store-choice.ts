import { dag } from "@dagger.io/dagger";
import type { StoreChoice as FaceStoreChoice } from "../../src/module-api.js";
import type { FailurePolicy, RedisStateStore } from "../store/redis/index.js";
import { keyTtlProblem } from "../store/redis/key-ttl.js";
import type { StateStore } from "../store/state-store.js";
import { stateExecOn } from "../store/volume/state-exec.js";
import { DEFAULT_STATE_VOLUME, VolumeStateStore } from "../store/volume/volume-store.js";

/** Where the module keeps breaker state, as the caller chose it with constructor arguments. */
export interface StoreChoice extends FaceStoreChoice {
  redisTimeoutMs?: number;
}

async function redisStore(choice: StoreChoice): Promise<RedisStateStore | null> {
  if (choice.redis && choice.redisUrl) {
    throw new Error("pass either --redis (a service) or --redis-url (an address), not both");
  }
  // Checked before a Redis service is started: a bad value is the caller's mistake.
  if (choice.redisKeyTtl != null) {
    if (!choice.redis && !choice.redisUrl) {
      throw new Error(
        "--redis-key-ttl applies only to state kept in Redis: pass --redis-url or --redis too, or drop --redis-key-ttl " +
          "(breakers in a cache volume are removed with `prune --unused-for`)",
      );
    }
    const problem = keyTtlProblem(choice.redisKeyTtl, "--redis-key-ttl");
    if (problem !== null) throw new Error(problem);
  }
  let url = choice.redisUrl;
  if (choice.redis) {
    await choice.redis.start();
    url = await choice.redis.endpoint({ scheme: choice.redisTls ? "rediss" : "redis" });
  }
  if (!url) return null;
  const policy = choice.redisFailurePolicy ?? "fail-closed";
  if (policy !== "fail-closed" && policy !== "fail-open") {
    throw new Error(`--redis-failure-policy must be "fail-closed" or "fail-open", got ${JSON.stringify(policy)}`);
  }
  // Loaded only when Redis is chosen: ioredis is most of what a volume-backed call would import.
  const { RedisStateStore } = await import("../store/redis/index.js");
  return new RedisStateStore({
    url,
    password: choice.redisPassword ? await choice.redisPassword.plaintext() : undefined,
    tls: choice.redisTls ?? false,
    failurePolicy: policy as FailurePolicy,
    timeoutMs: choice.redisTimeoutMs,
    keyTtlSeconds: choice.redisKeyTtl ?? undefined,
  });
}

/**
 * Runs `fn` with the chosen store: Redis when an address or service is given, else the cache
 * volume. A Redis connection is closed afterwards, so the function's process can exit.
 */
export async function withStateStore<T>(choice: StoreChoice, fn: (store: StateStore) => Promise<T>): Promise<T> {
  const redis = await redisStore(choice);
  if (!redis) {
    const volume = choice.stateVolume ?? dag.cacheVolume(DEFAULT_STATE_VOLUME);
    return fn(new VolumeStateStore(stateExecOn(volume), choice.stateVolume ? "given by the caller" : DEFAULT_STATE_VOLUME));
  }
  try {
    return await fn(redis);
  } finally {
    await redis.close();
  }
}
