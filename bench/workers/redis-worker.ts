// One process of the Redis throughput benchmark (bench/store-throughput.ts), compiled with
// esbuild and run with plain node (as tests/store/redis-worker.ts is) to avoid tsx start-up.
// It holds a RedisStateStore and a bare ioredis client to the same server.
//
//   env CB_REDIS_PORT, CB_PREFIX, CB_BREAKER, CB_WORKER
//
// It does one untimed pair, prints {"ready":true}, then for each stdin line:
//   "store <pairs>"  acquire + record pairs through the store on the shared breaker;
//   "bare <pairs>"   the floor: for each store request of those pairs, one GET of the breaker's
//                    key and one SET of that text to this worker's own scratch key (two round
//                    trips with the same payload, no script, no parse, no transition);
//   "exit".
// Each answer is {"start","end"} in absolute milliseconds, plus the store's stats() for "store".
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { RedisKeys } from "../../lib/store/redis/keys.js";
import { RedisStateStore } from "../../lib/store/redis/index.js";
import { BENCH_POLICY, commands, pairs } from "./pairs.js";

const port = Number(process.env.CB_REDIS_PORT);
const prefix = process.env.CB_PREFIX ?? "";
const breaker = process.env.CB_BREAKER ?? "shared";
const id = process.env.CB_WORKER ?? "0";

const lines = commands();
const say = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const store = new RedisStateStore({ host: "127.0.0.1", port, prefix, timeoutMs: 10_000 });
const bare = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: 1 });
const key = new RedisKeys(prefix).breaker(breaker);
const scratch = `${prefix}scratch:${id}`;

async function floor(count: number): Promise<void> {
  for (let i = 0; i < 2 * count; i++) {
    const text = await bare.get(key);
    if (text === null) throw new Error(`${key} is missing`);
    await bare.set(scratch, text);
  }
}

await pairs(store, breaker, BENCH_POLICY, `${id}-warm-${randomUUID()}`, 1);
await floor(1);
say({ ready: true });
for await (const line of lines) {
  const [command, n] = line.trim().split(/\s+/);
  if (command === "exit") break;
  const before = store.stats();
  const start = performance.timeOrigin + performance.now();
  if (command === "store") await pairs(store, breaker, BENCH_POLICY, `${id}-${randomUUID()}`, Number(n));
  else if (command === "bare") await floor(Number(n));
  else throw new Error(`unknown command ${JSON.stringify(line)}`);
  const end = performance.timeOrigin + performance.now();
  const after = store.stats();
  say({ start, end, conflicts: after.conflicts - before.conflicts, writes: after.writes - before.writes, exhausted: after.exhausted - before.exhausted });
}
lines.close();
await store.close();
bare.disconnect();
