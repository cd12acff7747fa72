import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { RedisStateStore, type RedisStoreOptions } from "../../lib/store/redis/index.js";
import { emptyLedger, LEDGER_POLICY, type Ledger } from "./failover-ledger.js";

/**
 * One of the racing writers of the failover tests and benchmark, in its own process. Commands,
 * one JSON line each on stdin: {"start": {options, breaker}} opens a store and records failures
 * (acquire, then record) in a loop, keeping a ledger; {"stop": true} ends the loop and prints
 * the ledger as one JSON line; {"exit": true} closes the store and exits. Says {"ready": true}
 * first.
 */

interface Start {
  options: RedisStoreOptions;
  breaker: string;
}

let running: Promise<Ledger> | null = null;
let stopping = false;
let store = null as RedisStateStore | null;

async function loop({ options, breaker }: Start): Promise<Ledger> {
  store = new RedisStateStore(options);
  const ledger = emptyLedger();
  const failed = (e: unknown) => {
    const error = e instanceof Error ? e : new Error(String(e));
    ledger.errors.push({ name: error.name, message: error.message });
  };
  const timed = async <T>(work: Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work;
    } finally {
      ledger.longestMs = Math.max(ledger.longestMs, Math.round(performance.now() - started));
    }
  };
  while (!stopping) {
    const policy = LEDGER_POLICY;
    let permit;
    try {
      const acquired = await timed(store.apply({ op: "acquire", breaker, policy, permitId: randomUUID(), expectedDurationMs: 0 }));
      if (!acquired.decision?.admitted) throw new Error(`not admitted: ${JSON.stringify(acquired.decision)}`);
      permit = acquired.decision.permit;
      ledger.acquired.push(permit.id);
    } catch (e) {
      ledger.acquireFailed += 1;
      failed(e);
      continue;
    }
    try {
      await timed(store.apply({ op: "record", breaker, policy, permit, outcome: { ok: false, durationMs: 1, exitCode: 1, error: "planned" } }));
      ledger.recorded.push(permit.id);
      ledger.recordedAt.push(Date.now());
    } catch (e) {
      ledger.recordFailed.push(permit.id);
      failed(e);
    }
  }
  return ledger;
}

const say = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
say({ ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as { start?: Start; stop?: true; exit?: true };
  if (command.start) {
    stopping = false;
    running = loop(command.start);
  } else if (command.stop) {
    stopping = true;
    const ledger = await running;
    await store?.close();
    say(ledger);
  } else if (command.exit) {
    break;
  }
}
await store?.close();
process.exit(0);
