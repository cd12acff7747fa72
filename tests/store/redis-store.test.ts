import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidNameError } from "../../lib/core/names.js";
import { DEFAULT_POLICY } from "../../lib/core/policy.js";
import type { Permit } from "../../lib/core/state.js";
import {
  RedisAuthError,
  RedisStateStore,
  RedisStoreClosedError,
  UNRECORDED_PERMIT_PREFIX,
  type RedisStoreOptions,
} from "../../lib/store/redis/index.js";
import { ioredisOptions, resolveOptions } from "../../lib/store/redis/options.js";
import { RedisKeys } from "../../lib/store/redis/keys.js";
import { serializeState } from "../../lib/core/serialize.js";
import { initialState } from "../../lib/core/state.js";
import { RedisServer } from "./redis-server.js";
import { describeStoreContract } from "./store-contract.js";

let server: RedisServer;
let raw: Redis;
const open: RedisStateStore[] = [];

beforeAll(async () => {
  server = await RedisServer.start();
  raw = new Redis({ host: "127.0.0.1", port: server.port, lazyConnect: true });
  await raw.connect();
});
afterAll(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  raw?.disconnect();
  await server?.stop();
});

function storeFor(options: Partial<RedisStoreOptions> = {}): RedisStateStore {
  const store = new RedisStateStore({ host: "127.0.0.1", port: server.port, prefix: `test-${randomUUID()}:`, ...options } as RedisStoreOptions);
  open.push(store);
  return store;
}

const acquire = (store: RedisStateStore, breaker = "deploy") =>
  store.apply({ op: "acquire", breaker, policy: DEFAULT_POLICY, permitId: randomUUID(), expectedDurationMs: 0 });

describeStoreContract("redis", async () => {
  const prefix = `contract-${randomUUID()}:`;
  const store = new RedisStateStore({ host: "127.0.0.1", port: server.port, prefix });
  return {
    store,
    close: () => store.close(),
    corrupt: async (breaker, text) => {
      await raw.set(`${prefix}breaker:${breaker}`, text);
      await raw.sadd(`${prefix}breakers`, breaker);
    },
  };
});

describe("Redis store specifics", () => {
  it("keeps one key per breaker and a set of names, under the prefix", async () => {
    const store = storeFor({ prefix: "layout:" });
    await acquire(store, "deploy");
    await acquire(store, "smoke");
    const text = await raw.get("layout:breaker:deploy");
    expect(JSON.parse(text ?? "null")).toMatchObject({ name: "deploy", counters: { admitted: 1 } });
    expect((await raw.smembers("layout:breakers")).sort()).toEqual(["deploy", "smoke"]);
  });

  it("uses circuit-breaker: as the default prefix", async () => {
    const store = new RedisStateStore({ host: "127.0.0.1", port: server.port });
    open.push(store);
    await acquire(store, `default-${process.pid}`);
    expect(await raw.exists(`circuit-breaker:breaker:default-${process.pid}`)).toBe(1);
    expect(store.description).toBe(`Redis at redis://127.0.0.1:${server.port} (key prefix "circuit-breaker:")`);
  });

  it("takes the time from the Redis server", async () => {
    const store = storeFor();
    const [seconds] = await raw.time();
    const response = await acquire(store);
    expect(Math.abs(response.now - Number(seconds) * 1000)).toBeLessThan(2000);
    expect(response.states[0]?.updatedAt).toBe(response.now);
  });

  it("counts conflicts between writers and still loses no update", async () => {
    const prefix = `race-${randomUUID()}:`;
    const stores = [storeFor({ prefix }), storeFor({ prefix }), storeFor({ prefix })];
    await Promise.all(Array.from({ length: 60 }, (_, i) => acquire(stores[i % 3]!)));
    const state = (await stores[0]!.apply({ op: "read", breakers: ["deploy"] })).states[0];
    expect(state?.counters.admitted).toBe(60);
    const totals = stores.map((s) => s.stats()).reduce((a, b) => ({ ...a, writes: a.writes + b.writes, conflicts: a.conflicts + b.conflicts }));
    expect(totals.conflicts).toBeGreaterThan(0);
    // Every write either won or was counted as a conflict and redone.
    expect(totals.writes).toBe(60 + totals.conflicts);
  });

  it("checks breaker names before touching Redis", async () => {
    const store = storeFor();
    await expect(acquire(store, "../etc")).rejects.toBeInstanceOf(InvalidNameError);
    expect(store.stats().writes).toBe(0);
  });

  it("rejects requests after close", async () => {
    const store = storeFor();
    await acquire(store);
    await store.close();
    await expect(acquire(store)).rejects.toBeInstanceOf(RedisStoreClosedError);
  });

  it("records and cancels of unrecorded permits are no-ops that need no Redis", async () => {
    const store = storeFor({ port: 1, timeoutMs: 200 });
    const permit: Permit = { id: `${UNRECORDED_PERMIT_PREFIX}abc`, breaker: "deploy", generation: 0, probe: false, issuedAt: 0, expiresAt: null };
    const recorded = await store.apply({ op: "record", breaker: "deploy", policy: DEFAULT_POLICY, permit, outcome: { ok: true, durationMs: 1 } });
    expect(recorded).toMatchObject({ effect: "ignored", problems: [] });
    expect(recorded.warnings?.[0]).toContain("nothing to record");
    const cancelled = await store.apply({ op: "cancel", breaker: "deploy", policy: DEFAULT_POLICY, permit });
    expect(cancelled.warnings?.[0]).toContain("nothing to cancel");
    expect(store.stats().unavailable).toBe(0);
  });
});

describe("Redis store with a password", () => {
  let secured: RedisServer;
  const password = "s3cret-Pa55";
  beforeAll(async () => {
    secured = await RedisServer.start({ password });
  });
  afterAll(async () => {
    await secured?.stop();
  });

  it("works with the right password, given as an option or in the URL", async () => {
    const byOption = storeFor({ port: secured.port, password });
    expect((await acquire(byOption)).decision?.admitted).toBe(true);
    const byUrl = new RedisStateStore({ url: `redis://:${password}@127.0.0.1:${secured.port}`, prefix: "url:" });
    open.push(byUrl);
    expect((await acquire(byUrl)).decision?.admitted).toBe(true);
    expect(byUrl.description).not.toContain(password);
  });

  for (const [what, given] of [
    ["a wrong password", { password: "wrong" }],
    ["no password", {}],
  ] as const) {
    it(`fails fast and clearly with ${what}, even under fail-open`, async () => {
      for (const failurePolicy of ["fail-closed", "fail-open"] as const) {
        const store = storeFor({ port: secured.port, timeoutMs: 1500, failurePolicy, ...given });
        const started = performance.now();
        const error = await acquire(store).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(RedisAuthError);
        const message = (error as Error).message;
        expect(message).toContain(`redis://127.0.0.1:${secured.port}`);
        expect(message).toContain("refused the credentials");
        expect(message).toContain("password");
        expect(message).not.toContain("wrong");
        expect(performance.now() - started).toBeLessThan(1000);
        // A second request fails as clearly.
        await expect(acquire(store)).rejects.toBeInstanceOf(RedisAuthError);
      }
    });
  }
});

describe("Redis store options", () => {
  it("describes the address without credentials", () => {
    expect(resolveOptions({ url: "rediss://user:pw@cache.internal:6380/2" }).address).toBe("rediss://cache.internal:6380/2");
    expect(resolveOptions({ host: "cache", tls: true, db: 3 }).address).toBe("rediss://cache:6379/3");
  });

  it("refuses nonsense settings with a message", () => {
    expect(() => resolveOptions({ host: "h", timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => resolveOptions({ host: "h", maxAttempts: 0 })).toThrow(/maxAttempts/);
    expect(() => resolveOptions({ url: "http://h" })).toThrow(/redis:\/\//);
    expect(() => resolveOptions({ url: "not a url :pw" })).toThrow(/not a URL/);
    expect(() => resolveOptions({ url: "not a url :pw" })).not.toThrow(/pw/);
  });

  it("configures ioredis to fail instead of queueing, within the timeout", () => {
    const options = { host: "h", port: 7000, tls: true, password: "p", timeoutMs: 750 };
    const settings = ioredisOptions(options, resolveOptions(options));
    expect(settings).toMatchObject({
      host: "h",
      port: 7000,
      tls: {},
      password: "p",
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 750,
      connectTimeout: 750,
      lazyConnect: true,
    });
  });
});

describe("state written before Sentinel and Cluster support", () => {
  it("is read and used where it always was: circuit-breaker:breaker:NAME and circuit-breaker:breakers, no hash tag", async () => {
    // Exactly what the store wrote before: the old layout and a state text of that version.
    const before = { ...initialState("legacy-api", Date.now() - 60_000) };
    before.counters.admitted = 7;
    before.counters.failures = 2;
    before.consecutiveFailures = 2;
    await raw.set("circuit-breaker:breaker:legacy-api", serializeState(before));
    await raw.sadd("circuit-breaker:breakers", "legacy-api");
    const store = new RedisStateStore({ url: `redis://127.0.0.1:${server.port}` });
    open.push(store);
    const read = await store.apply({ op: "read", breakers: null });
    expect(read.states.find((s) => s.name === "legacy-api")?.counters).toMatchObject({ admitted: 7, failures: 2 });
    const permit = (await acquire(store, "legacy-api")).decision;
    if (!permit?.admitted) throw new Error("not admitted");
    await store.apply({ op: "record", breaker: "legacy-api", policy: DEFAULT_POLICY, permit: permit.permit, outcome: { ok: false, durationMs: 1 } });
    const after = JSON.parse((await raw.get("circuit-breaker:breaker:legacy-api")) ?? "null") as { counters: { admitted: number; failures: number }; consecutiveFailures: number };
    expect(after.counters).toMatchObject({ admitted: 8, failures: 3 });
    expect(after.consecutiveFailures).toBe(3);
    expect(await raw.exists("{circuit-breaker:}breaker:legacy-api")).toBe(0);
  });

  it("keeps a Cluster's keys under the prefix as a hash tag, and refuses a prefix that cannot be one", () => {
    expect(() => resolveOptions({ clusterNodes: [{ host: "h", port: 7000 }], prefix: "" })).toThrow(/non-empty and without \{ or \}/);
    expect(() => resolveOptions({ clusterNodes: [{ host: "h", port: 7000 }], prefix: "a{b}:" })).toThrow(/non-empty and without \{ or \}/);
    expect(resolveOptions({ clusterNodes: [{ host: "h", port: 7000 }] }).topology).toBe("cluster");
    expect(new RedisKeys("circuit-breaker:", true).breaker("deploy")).toBe("{circuit-breaker:}breaker:deploy");
    expect(new RedisKeys("circuit-breaker:", true).names).toBe("{circuit-breaker:}breakers");
    expect(new RedisKeys("circuit-breaker:").breaker("deploy")).toBe("circuit-breaker:breaker:deploy");
  });

  it("describes Sentinel and Cluster addresses without passwords, and takes a failover wait only for them", () => {
    const sentinel = resolveOptions({ sentinels: [{ host: "s1", port: 26379 }, { host: "::1", port: 26380 }], masterName: "mymaster", sentinelPassword: "pw", password: "pw2" });
    expect(sentinel.address).toBe("redis-sentinel://s1:26379,[::1]:26380/mymaster");
    expect(sentinel.failoverTimeoutMs).toBe(60_000);
    expect(resolveOptions({ clusterNodes: [{ host: "c1", port: 7000 }], tls: true }).address).toBe("rediss-cluster://c1:7000");
    expect(resolveOptions({ host: "h" }).failoverTimeoutMs).toBeNull();
    expect(() => resolveOptions({ host: "h", failoverTimeoutMs: 1000 })).toThrow(/only to Sentinel or Cluster/);
    expect(() => resolveOptions({ host: "h", minReplicas: -1 })).toThrow(/minReplicas/);
  });
});
