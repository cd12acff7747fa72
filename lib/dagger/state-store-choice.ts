import { dag } from "@dagger.io/dagger";
import type { StoreChoice as FaceStoreChoice } from "../../src/module-api.js";
import type { RedisStateStore } from "../store/redis/index.js";
import type { StateStore } from "../store/state-store.js";
import { stateExecOn } from "../store/volume/state-exec.js";
import { DEFAULT_STATE_VOLUME, VolumeStateStore } from "../store/volume/volume-store.js";
import { redisOptionsFor } from "./redis-choice.js";

/** Where the module keeps breaker state, as the caller chose it with constructor arguments. */
export interface StoreChoice extends FaceStoreChoice {
  redisTimeoutMs?: number;
}

async function redisStore(choice: StoreChoice): Promise<RedisStateStore | null> {
  const options = await redisOptionsFor(choice);
  if (options === null) return null;
  // Loaded only when Redis is chosen: ioredis is most of what a volume-backed call would import.
  const { RedisStateStore } = await import("../store/redis/index.js");
  return new RedisStateStore(options);
}

/**
 * Runs `fn` with the chosen store: Redis when an address, Sentinels, Cluster nodes or a service are given, else the cache
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
