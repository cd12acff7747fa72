import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisStateStore, type RedisStoreOptions } from "../../lib/store/redis/index.js";
import { account } from "./failover-ledger.js";
import { FailoverWriters } from "./failover-writers.js";
import { SentinelSet } from "./redis-sentinel-set.js";

/**
 * A Sentinel-managed primary frozen (SIGSTOP) for longer than a request may take, but shorter
 * than Sentinel's down-after-milliseconds (10 s here), so no failover comes to the rescue:
 * every request must end within its budget, and after SIGCONT the breaker must work again with
 * every acknowledged write in its state.
 */

const BUDGET_MS = 1500;
/** Scheduling slack on a busy 2-core machine. */
const MARGIN_MS = 1000;
const STALL_MS = 4000;

let set: SentinelSet;
let writers: FailoverWriters;

beforeAll(async () => {
  [set, writers] = await Promise.all([SentinelSet.start({ downAfterMs: 10_000 }), FailoverWriters.start(4)]);
});
afterAll(async () => {
  await writers?.close();
  await set?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a stalled Sentinel-managed primary", () => {
  it("fails every call within the budget, none hangs, and after SIGCONT the state is whole and the breaker works", async () => {
    const prefix = `stall-${randomUUID().slice(0, 8)}:`;
    const options: RedisStoreOptions = {
      sentinels: set.sentinelAddresses,
      masterName: set.masterName,
      prefix,
      timeoutMs: 500,
      failoverTimeoutMs: BUDGET_MS,
      minReplicas: 1,
    };
    const primary = set.node(await set.primaryPort());
    writers.start(options, "stalled");
    await sleep(800);
    primary.freeze();
    try {
      await sleep(STALL_MS);
    } finally {
      primary.thaw();
    }
    const thawedAt = Date.now();
    await sleep(1500);
    const ledgers = await writers.stop();

    const reader = new RedisStateStore({ ...options, minReplicas: 0, failoverTimeoutMs: 5000 });
    try {
      const state = (await reader.apply({ op: "read", breakers: ["stalled"] })).states[0]!;
      const a = account(ledgers, state);
      const longest = Math.max(...ledgers.map((l) => l.longestMs));
      console.log(
        `stall: ${a.acknowledgedRecords} records acknowledged, ${a.failedRequests} requests failed, longest request ${longest} ms ` +
          `(budget ${BUDGET_MS} ms), lost ${a.lostAcknowledged}, counted twice ${a.countedTwice}`,
      );
      expect(longest).toBeLessThan(BUDGET_MS + MARGIN_MS);
      // Each writer's requests during the stall failed, under the policy, naming the wait for a primary.
      expect(a.failedRequests).toBeGreaterThanOrEqual(4);
      for (const error of ledgers.flatMap((l) => l.errors)) {
        expect(error.name).toBe("RedisUnavailableError");
        expect(error.message).toContain(`had no primary that answered within ${BUDGET_MS} ms`);
        expect(error.message).toContain("failover");
      }
      expect(a).toMatchObject({ lostOutcomes: 0, lostAdmissions: 0, countedTwice: 0, admittedTwice: 0 });
      expect(ledgers.reduce((n, l) => n + l.recordedAt.filter((t) => t > thawedAt).length, 0)).toBeGreaterThan(0);
    } finally {
      await reader.close();
    }
  });
});
