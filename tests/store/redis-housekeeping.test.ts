import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_POLICY } from "../../lib/core/policy.js";
import { serializeState } from "../../lib/core/serialize.js";
import { initialState } from "../../lib/core/state.js";
import { withStateStore } from "../../lib/dagger/state-store-choice.js";
import { RedisStateStore, type RedisStoreOptions } from "../../lib/store/redis/index.js";
import { resolveOptions } from "../../lib/store/redis/options.js";
import { RedisServer } from "./redis-server.js";

/** Runs just before the prune's compare-and-delete script: what another runner does meanwhile. */
const between = vi.hoisted(() => ({ hook: null as (() => Promise<void>) | null }));

vi.mock("../../lib/store/redis/commands.js", async (importOriginal) => {
  const commands = await importOriginal<typeof import("../../lib/store/redis/commands.js")>();
  return {
    ...commands,
    compareAndDelete: async (...args: Parameters<typeof commands.compareAndDelete>) => {
      const hook = between.hook;
      between.hook = null;
      await hook?.();
      return commands.compareAndDelete(...args);
    },
  };
});

const DAY = 86_400_000;
let server: RedisServer;
let raw: Redis;
const open: RedisStateStore[] = [];

beforeAll(async () => {
  server = await RedisServer.start();
  raw = new Redis({ host: "127.0.0.1", port: server.port, lazyConnect: true });
  await raw.connect();
});
afterEach(() => {
  between.hook = null;
});
afterAll(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  raw?.disconnect();
  await server?.stop();
});

function storeFor(prefix: string, options: Partial<RedisStoreOptions> = {}): RedisStateStore {
  const store = new RedisStateStore({ host: "127.0.0.1", port: server.port, prefix, ...options } as RedisStoreOptions);
  open.push(store);
  return store;
}

const acquire = (store: RedisStateStore, breaker: string) =>
  store.apply({ op: "acquire", breaker, policy: DEFAULT_POLICY, permitId: randomUUID(), expectedDurationMs: 0 });

/** Writes a breaker last used 40 days ago by Redis's clock, as an earlier runner would have. */
async function plantStale(prefix: string, breaker: string): Promise<string> {
  const [seconds] = await raw.time();
  const text = serializeState(initialState(breaker, Number(seconds) * 1000 - 40 * DAY));
  await raw.set(`${prefix}breaker:${breaker}`, text);
  await raw.sadd(`${prefix}breakers`, breaker);
  return text;
}

describe("a Redis prune", () => {
  it("does not delete a breaker used between its judgement and its delete, and reports it kept", async () => {
    const prefix = `prune-race-${randomUUID()}:`;
    const store = storeFor(prefix);
    const otherRunner = storeFor(prefix);
    await plantStale(prefix, "used-meanwhile");
    await plantStale(prefix, "unused");
    between.hook = async () => {
      await acquire(otherRunner, "used-meanwhile");
    };

    const pruned = await store.apply({ op: "prune", unusedForMs: 30 * DAY, dryRun: false });
    expect(between.hook, "the hook ran").toBeNull();
    expect(pruned.prune?.removed.map((r) => r.breaker)).toEqual(["unused"]);
    expect(pruned.prune?.kept).toEqual([{ breaker: "used-meanwhile", lastUsedAt: expect.any(Number), reason: { kind: "used-while-pruning" } }]);
    expect(await raw.exists(`${prefix}breaker:used-meanwhile`)).toBe(1);
    expect(await raw.exists(`${prefix}breaker:unused`)).toBe(0);
    expect((await raw.smembers(`${prefix}breakers`)).sort()).toEqual(["used-meanwhile"]);
    const state = (await store.apply({ op: "read", breakers: ["used-meanwhile"] })).states[0];
    expect(state?.counters.admitted).toBe(1);
  });

  it("drops names whose key has expired from the names set; a dry run only reports them", async () => {
    const prefix = `prune-names-${randomUUID()}:`;
    const store = storeFor(prefix);
    await acquire(store, "live");
    await raw.sadd(`${prefix}breakers`, "expired-a", "expired-b");

    const dry = await store.apply({ op: "prune", unusedForMs: 30 * DAY, dryRun: true });
    expect(dry.prune?.leftovers).toEqual([
      { kind: "name-without-state", name: "expired-a" },
      { kind: "name-without-state", name: "expired-b" },
    ]);
    expect((await raw.smembers(`${prefix}breakers`)).sort()).toEqual(["expired-a", "expired-b", "live"]);

    // A name that gets its state back before the delete is a breaker in use again: it stays.
    between.hook = async () => {
      await acquire(store, "expired-b");
    };
    const pruned = await store.apply({ op: "prune", unusedForMs: 30 * DAY, dryRun: false });
    expect(pruned.prune?.leftovers).toEqual([{ kind: "name-without-state", name: "expired-a" }]);
    expect(pruned.prune?.removed).toEqual([]);
    expect((await raw.smembers(`${prefix}breakers`)).sort()).toEqual(["expired-b", "live"]);
  });
});

describe("the Redis key TTL", () => {
  const key = (prefix: string, breaker: string) => `${prefix}breaker:${breaker}`;

  it("is set, and refreshed, by every write when configured", async () => {
    const prefix = `ttl-${randomUUID()}:`;
    const store = storeFor(prefix, { keyTtlSeconds: 3600 });
    await acquire(store, "deploy");
    const first = await raw.pttl(key(prefix, "deploy"));
    expect(first).toBeGreaterThan(3_500_000);
    expect(first).toBeLessThanOrEqual(3_600_000);
    await raw.pexpire(key(prefix, "deploy"), 100_000);
    await acquire(store, "deploy");
    expect(await raw.pttl(key(prefix, "deploy"))).toBeGreaterThan(3_500_000);
    // The names set never expires: prune cleans the names of expired keys out of it.
    expect(await raw.pttl(`${prefix}breakers`)).toBe(-1);
  });

  it("is absent when not configured, and a write without it clears an expiry", async () => {
    const prefix = `no-ttl-${randomUUID()}:`;
    await acquire(storeFor(prefix), "deploy");
    expect(await raw.pttl(key(prefix, "deploy"))).toBe(-1);
    await raw.pexpire(key(prefix, "deploy"), 100_000);
    await acquire(storeFor(prefix), "deploy");
    expect(await raw.pttl(key(prefix, "deploy"))).toBe(-1);
  });

  it("is not put on a breaker tripped or disabled by hand, and comes back with reset", async () => {
    const prefix = `ttl-by-hand-${randomUUID()}:`;
    const store = storeFor(prefix, { keyTtlSeconds: 3600 });
    await acquire(store, "tripped");
    await store.apply({ op: "trip", breaker: "tripped", policy: null, durationMs: null });
    expect(await raw.pttl(key(prefix, "tripped"))).toBe(-1);
    await store.apply({ op: "disable", breaker: "disabled", policy: null });
    expect(await raw.pttl(key(prefix, "disabled"))).toBe(-1);
    await store.apply({ op: "reset", breaker: "tripped", policy: null });
    expect(await raw.pttl(key(prefix, "tripped"))).toBeGreaterThan(3_500_000);
  });

  it("a key that expires takes its breaker out of reads; its name goes at the next prune", async () => {
    const prefix = `ttl-expire-${randomUUID()}:`;
    const store = storeFor(prefix, { keyTtlSeconds: 3600 });
    await acquire(store, "per-key-42");
    await raw.pexpire(key(prefix, "per-key-42"), 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await store.apply({ op: "read", breakers: null })).states).toEqual([]);
    const pruned = await store.apply({ op: "prune", unusedForMs: 30 * DAY, dryRun: false });
    expect(pruned.prune?.leftovers).toEqual([{ kind: "name-without-state", name: "per-key-42" }]);
    expect(await raw.exists(`${prefix}breakers`)).toBe(0);
  });

  it("is refused below a minute or when not whole, saying an open breaker could vanish", () => {
    for (const keyTtlSeconds of [59, 0, -5, 90.5, Number.NaN]) {
      expect(() => resolveOptions({ host: "h", keyTtlSeconds })).toThrow(
        /Redis store keyTtlSeconds must be a whole number of seconds >= 60, got .*vanish while open.*max_reset_timeout/,
      );
    }
    expect(resolveOptions({ host: "h", keyTtlSeconds: 60 }).keyTtlSeconds).toBe(60);
    expect(resolveOptions({ host: "h" }).keyTtlSeconds).toBeNull();
  });

  it("is checked as --redis-key-ttl before any Redis is started or reached", async () => {
    let started = false;
    const service = {
      start: async () => {
        started = true;
        return service;
      },
    } as unknown as NonNullable<Parameters<typeof withStateStore>[0]["redis"]>;
    const nothing = async () => "ran";
    await expect(withStateStore({ redis: service, redisKeyTtl: 30 }, nothing)).rejects.toThrow(
      /^--redis-key-ttl must be a whole number of seconds >= 60, got 30\..*vanish while open/,
    );
    await expect(withStateStore({ redisUrl: `redis://127.0.0.1:${server.port}`, redisKeyTtl: 1.5 }, nothing)).rejects.toThrow(
      /--redis-key-ttl must be/,
    );
    await expect(withStateStore({ redisKeyTtl: 3600 }, nothing)).rejects.toThrow(/--redis-key-ttl applies only to state kept in Redis/);
    expect(started).toBe(false);
    const url = `redis://127.0.0.1:${server.port}`;
    expect(await withStateStore({ redisUrl: url, redisKeyTtl: 3600 }, async (store) => store.description)).toContain("Redis at");
  });
});
