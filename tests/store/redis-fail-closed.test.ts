import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../lib/core/policy.js";
import type { Permit } from "../../lib/core/state.js";
import { RedisStateStore, RedisUnavailableError, type RedisStoreOptions } from "../../lib/store/redis/index.js";
import { resolveOptions } from "../../lib/store/redis/options.js";

/**
 * With Redis unreachable and no failure policy given, the store fails closed: `acquire`
 * throws, naming Redis and the fix, and admits nothing. No Redis server is needed: the store
 * is pointed at a port nothing listens on.
 */

const TIMEOUT_MS = 150;
/** Scheduling slack on a busy machine. */
const MARGIN_MS = 750;

let port: number;
const stores: RedisStateStore[] = [];

/** A port that was free a moment ago: bound, then released. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

beforeAll(async () => {
  port = await unusedPort();
});
afterAll(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

function storeFor(options: RedisStoreOptions): RedisStateStore {
  const store = new RedisStateStore(options);
  stores.push(store);
  return store;
}

const acquire = (store: RedisStateStore) =>
  store.apply({ op: "acquire", breaker: "deploy", policy: DEFAULT_POLICY, permitId: randomUUID(), expectedDurationMs: 0 });

async function settle<T>(work: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    return { ms: performance.now() - started, value: await work };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

describe("a Redis store given no failure policy, with Redis unreachable", () => {
  it("is fail-closed by default", () => {
    expect(resolveOptions({ host: "127.0.0.1" }).failurePolicy).toBe("fail-closed");
    expect(storeFor({ host: "127.0.0.1", port, timeoutMs: TIMEOUT_MS }).failurePolicy).toBe("fail-closed");
  });

  const addresses: [string, () => RedisStoreOptions][] = [
    ["host and port", () => ({ host: "127.0.0.1", port, timeoutMs: TIMEOUT_MS })],
    ["url", () => ({ url: `redis://127.0.0.1:${port}/0`, timeoutMs: TIMEOUT_MS })],
    ["failurePolicy explicitly undefined", () => ({ host: "127.0.0.1", port, timeoutMs: TIMEOUT_MS, failurePolicy: undefined })],
  ];
  for (const [label, options] of addresses) {
    it(`refuses acquire by throwing, within the timeout, and admits nothing (${label})`, async () => {
      const store = storeFor(options());
      for (let i = 0; i < 2; i++) {
        const { ms, value, error } = await settle(acquire(store));
        expect(value?.decision, "acquire must not admit").toBeUndefined();
        expect(value?.warnings).toBeUndefined();
        expect(error).toBeInstanceOf(RedisUnavailableError);
        const message = (error as Error).message;
        expect(message).toContain(`Redis state store at redis://127.0.0.1:${port}`);
        expect(message).toContain('acquire on breaker "deploy" did not happen');
        expect(message).toContain("the protected call was not run (failure policy: fail-closed)");
        expect(message).toContain('set failurePolicy "fail-open"');
        expect(ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
      }
      expect(store.stats()).toMatchObject({ failedOpen: 0 });
    });
  }

  it("does not drop a report silently either: record and cancel throw", async () => {
    const store = storeFor({ host: "127.0.0.1", port, timeoutMs: TIMEOUT_MS });
    const permit: Permit = { id: randomUUID(), breaker: "deploy", generation: 0, probe: false, issuedAt: Date.now(), expiresAt: null };
    await expect(
      store.apply({ op: "record", breaker: "deploy", policy: DEFAULT_POLICY, permit, outcome: { ok: false, durationMs: 1 } }),
    ).rejects.toBeInstanceOf(RedisUnavailableError);
    await expect(store.apply({ op: "cancel", breaker: "deploy", policy: DEFAULT_POLICY, permit })).rejects.toBeInstanceOf(RedisUnavailableError);
    expect(store.stats()).toMatchObject({ failedOpen: 0 });
  });
});
