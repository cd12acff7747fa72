import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { DEFAULT_POLICY, type BreakerPolicy } from "../../lib/core/policy.js";
import { RedisStateStore } from "../../lib/store/redis/index.js";

/**
 * One of several processes hammering the same breaker through its own Redis store, for the
 * multi-process no-lost-updates test. It connects, says "ready", waits for "go" on stdin so
 * that every process starts at once, records CB_COUNT outcomes (alternating success and
 * failure), and prints its store's counters as JSON.
 */
const port = Number(process.env.CB_REDIS_PORT);
const prefix = process.env.CB_PREFIX ?? "";
const count = Number(process.env.CB_COUNT ?? "100");
const breaker = "shared";
// A threshold no run reaches, so every outcome is counted while closed.
const policy: BreakerPolicy = { ...DEFAULT_POLICY, trip: { kind: "consecutive", threshold: 1_000_000 } };

const store = new RedisStateStore({ host: "127.0.0.1", port, prefix, timeoutMs: 5000 });
await store.apply({ op: "read", breakers: [breaker] });
process.stdout.write("ready\n");
const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.once("line", () => resolve()));
lines.close();

const started = performance.now();
for (let i = 0; i < count; i++) {
  const acquired = await store.apply({ op: "acquire", breaker, policy, permitId: randomUUID(), expectedDurationMs: 0 });
  if (!acquired.decision?.admitted) throw new Error(`not admitted: ${JSON.stringify(acquired.decision)}`);
  const outcome = i % 2 === 0 ? { ok: true, durationMs: 1 } : { ok: false, durationMs: 1, exitCode: 1, error: "planned" };
  await store.apply({ op: "record", breaker, policy, permit: acquired.decision.permit, outcome });
}
const elapsedMs = Math.round(performance.now() - started);
process.stdout.write(`${JSON.stringify({ elapsedMs, ...store.stats() })}\n`);
await store.close();
