import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../lib/core/policy.js";
import type { Permit } from "../../lib/core/state.js";
import type { StateResponse } from "../../lib/store/request.js";
import {
  RedisStateStore,
  RedisUnavailableError,
  UNRECORDED_PERMIT_PREFIX,
  type FailurePolicy,
  type RedisStoreStats,
} from "../../lib/store/redis/index.js";
import { RedisServer } from "./redis-server.js";
import { bundleWorker } from "./bundle-worker.js";

/**
 * Redis misbehaving: killed, frozen, back again, and shared by several processes at once.
 * Timeouts are short here so the suite stays fast; what matters is that every request ends
 * by its deadline, with the failure policy's answer.
 */

const TIMEOUT_MS = 400;
/** Scheduling slack on a busy 2-core CI machine. */
const MARGIN_MS = 400;

let server: RedisServer;
const stores: RedisStateStore[] = [];

beforeEach(async () => {
  server = await RedisServer.start();
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  await server.stop();
});

function storeFor(failurePolicy: FailurePolicy, prefix = `hostile-${randomUUID()}:`): RedisStateStore {
  const store = new RedisStateStore({ host: "127.0.0.1", port: server.port, prefix, timeoutMs: TIMEOUT_MS, failurePolicy });
  stores.push(store);
  return store;
}

const acquire = (store: RedisStateStore) =>
  store.apply({ op: "acquire", breaker: "deploy", policy: DEFAULT_POLICY, permitId: randomUUID(), expectedDurationMs: 0 });

function admitted(response: StateResponse): Permit {
  const decision = response.decision;
  if (!decision?.admitted) throw new Error(`expected admission, got ${JSON.stringify(decision)}`);
  return decision.permit;
}

/** Settles `work` and says how long it took. */
async function timed<T>(work: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await work;
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

async function expectFailClosed(store: RedisStateStore): Promise<void> {
  const { ms, error } = await timed(acquire(store));
  expect(ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
  expect(error).toBeInstanceOf(RedisUnavailableError);
  const message = (error as Error).message;
  expect(message).toContain(`Redis state store at redis://127.0.0.1:${server.port}`);
  expect(message).toContain(`${TIMEOUT_MS} ms`);
  expect(message).toContain('breaker "deploy"');
  expect(message).toContain("Fix:");
  expect(message).toContain("fail-open");
}

async function expectFailOpen(store: RedisStateStore, held: Permit): Promise<void> {
  const { ms, value, error } = await timed(acquire(store));
  expect(error).toBeUndefined();
  expect(ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
  const permit = admitted(value!);
  expect(permit.id.startsWith(UNRECORDED_PERMIT_PREFIX)).toBe(true);
  expect(value!.warnings?.[0]).toMatch(/NOT consulted: Redis at redis:\/\/127\.0\.0\.1:\d+ could not be used within 400 ms/);
  expect(value!.warnings?.[0]).toContain("fail-open");
  // The unrecorded permit's outcome goes nowhere, at once and without error.
  const quick = await timed(store.apply({ op: "record", breaker: "deploy", policy: DEFAULT_POLICY, permit, outcome: { ok: true, durationMs: 1 } }));
  expect(quick.error).toBeUndefined();
  expect(quick.ms).toBeLessThan(50);
  expect(quick.value?.warnings?.[0]).toContain("nothing to record");
  // A permit issued while Redis was up cannot be recorded now: dropped with a warning.
  const dropped = await timed(store.apply({ op: "record", breaker: "deploy", policy: DEFAULT_POLICY, permit: held, outcome: { ok: true, durationMs: 1 } }));
  expect(dropped.error).toBeUndefined();
  expect(dropped.value?.warnings?.[0]).toContain("was not stored");
  // A retry budget that cannot be asked lets the retry run, saying so.
  const budget = { ...DEFAULT_POLICY, retryBudget: { ratio: 0, minPerMinute: 0, windowMs: 60_000 } };
  const retry = await timed(store.apply({ op: "retry", breaker: "deploy", policy: budget }));
  expect(retry.error).toBeUndefined();
  expect(retry.value?.retry?.allowed).toBe(true);
  expect(retry.value?.warnings?.[0]).toMatch(/the retry budget was NOT consulted: Redis at .* \(failure policy: fail-open\)/);
  // Operators' actions and reads never pretend to have happened.
  await expect(store.apply({ op: "reset", breaker: "deploy", policy: null })).rejects.toBeInstanceOf(RedisUnavailableError);
  await expect(store.apply({ op: "read", breakers: null })).rejects.toBeInstanceOf(RedisUnavailableError);
}

/** Retries until the store answers again, as a runner would on its next call. */
async function recovers(store: RedisStateStore, withinMs = 5000): Promise<StateResponse> {
  const until = performance.now() + withinMs;
  for (;;) {
    try {
      return await acquire(store);
    } catch (e) {
      if (performance.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe("Redis killed mid-test", () => {
  it("fail-closed throws within the timeout, fail-open admits with a warning, both recover", async () => {
    const closed = storeFor("fail-closed");
    const open = storeFor("fail-open");
    admitted(await acquire(closed));
    const held = admitted(await acquire(open));

    await server.killAndWait();
    await expectFailClosed(closed);
    await expectFailOpen(open, held);
    expect(closed.stats().unavailable).toBeGreaterThan(0);
    expect(open.stats().failedOpen).toBe(3);

    expect(await server.launch()).toBe(true);
    expect((await recovers(closed)).warnings).toBeUndefined();
    expect(admitted(await recovers(open)).id.startsWith(UNRECORDED_PERMIT_PREFIX)).toBe(false);
  });

  it("a store whose Redis was never up fails within the timeout", async () => {
    await server.killAndWait();
    await expectFailClosed(storeFor("fail-closed"));
  });
});

describe("Redis frozen (SIGSTOP)", () => {
  it("nothing hangs: every request ends within the timeout, and the store works after SIGCONT", async () => {
    const closed = storeFor("fail-closed");
    const open = storeFor("fail-open");
    admitted(await acquire(closed));
    const held = admitted(await acquire(open));

    server.freeze();
    try {
      await expectFailClosed(closed);
      await expectFailOpen(open, held);
      // A crowd of requests, and a store that must connect to the frozen server, end in time too.
      const fresh = storeFor("fail-closed");
      const crowd = await Promise.all([...Array.from({ length: 20 }, () => timed(acquire(closed))), timed(acquire(fresh))]);
      for (const r of crowd) {
        expect(r.error).toBeInstanceOf(RedisUnavailableError);
        expect(r.ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
      }
    } finally {
      server.thaw();
    }
    expect((await recovers(closed)).decision?.admitted).toBe(true);
    expect(admitted(await recovers(open)).id.startsWith(UNRECORDED_PERMIT_PREFIX)).toBe(false);
  });
});

describe("several processes share one breaker", () => {
  const PROCESSES = 8;
  const EACH = 100;
  // The worker is compiled once rather than by tsx in each process: eight tsx start-ups take
  // about 8 s on a 2-core machine, eight plain `node` start-ups about 2 s.
  const dir = mkdtempSync(join(tmpdir(), "cb-worker-"));
  const worker = join(dir, "redis-worker.mjs");
  beforeAll(async () => {
    await bundleWorker(fileURLToPath(new URL("./redis-worker.ts", import.meta.url)), worker);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`${PROCESSES} processes recording ${EACH} outcomes each lose no update`, { timeout: 60_000 }, async () => {
    const prefix = `multi-${randomUUID()}:`;
    const children = Array.from({ length: PROCESSES }, () =>
      spawn(process.execPath, [worker], {
        env: { ...process.env, CB_REDIS_PORT: String(server.port), CB_PREFIX: prefix, CB_COUNT: String(EACH) },
        stdio: ["pipe", "pipe", "pipe"],
      }),
    );
    const outputs = children.map((child) => {
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const lines = createInterface({ input: child.stdout });
      const ready = new Promise<void>((resolve) => lines.once("line", () => resolve()));
      const result = new Promise<RedisStoreStats & { elapsedMs: number }>((resolve, reject) => {
        let last = "";
        lines.on("line", (line) => (last = line));
        child.once("exit", (code) => {
          if (code === 0) resolve(JSON.parse(last) as RedisStoreStats & { elapsedMs: number });
          else reject(new Error(`worker exited ${code}: ${stderr}`));
        });
      });
      result.catch(() => undefined);
      return { child, ready, result };
    });
    await Promise.race([
      Promise.all(outputs.map((o) => o.ready)),
      Promise.all(outputs.map((o) => o.result)),
    ]);
    for (const { child } of outputs) child.stdin.end("go\n");
    const results = await Promise.all(outputs.map((o) => o.result));

    const reader = storeFor("fail-closed", prefix);
    const state = (await reader.apply({ op: "read", breakers: ["shared"] })).states[0];
    const total = PROCESSES * EACH;
    expect(state?.counters).toMatchObject({ admitted: total, successes: total / 2, failures: total / 2 });
    const conflicts = results.reduce((n, r) => n + r.conflicts, 0);
    const writes = results.reduce((n, r) => n + r.writes, 0);
    expect(writes).toBe(2 * total + conflicts);
    expect(results.every((r) => r.exhausted === 0 && r.unavailable === 0)).toBe(true);
    console.log(
      `multi-process: ${PROCESSES}x${EACH} records, counters admitted=${state?.counters.admitted} successes=${state?.counters.successes} ` +
        `failures=${state?.counters.failures}; ${writes} writes, ${conflicts} conflicts; slowest process ${Math.max(...results.map((r) => r.elapsedMs))} ms`,
    );
  });
});
