import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../lib/core/policy.js";
import { RedisStateStore } from "../../lib/store/redis/index.js";
import { expectFailuresNameTheFailover, reportTrial } from "./failover-checks.js";
import { FailoverWriters } from "./failover-writers.js";
import { clusterDeployment, failoverTrial } from "./failover-trial.js";
import { RedisClusterSet } from "./redis-cluster-set.js";

/**
 * A Redis Cluster of three primaries with a replica each; the primary holding the breakers' slot
 * is SIGKILLed while eight processes record failures, and its replica takes over (after 1 s of
 * cluster-node-timeout here, 15 s by default).
 */

const WRITERS = 8;
let cluster: RedisClusterSet;
let writers: FailoverWriters;

beforeAll(async () => {
  [cluster, writers] = await Promise.all([RedisClusterSet.start(), FailoverWriters.start(WRITERS)]);
});
afterAll(async () => {
  await writers?.close();
  await cluster?.stop();
});

/** How the failures of a trial name this deployment. */
const CLUSTER_ADDRESS = /redis-cluster:\/\/127\.0\.0\.1:\d+/;

describe("keys in a Cluster", () => {
  it("puts a breaker's key and the names set in one hash slot, so every script runs (no CROSSSLOT)", async () => {
    const prefix = `slot-${randomUUID().slice(0, 8)}:`;
    const store = new RedisStateStore({ clusterNodes: cluster.seeds, prefix, timeoutMs: 2000, failoverTimeoutMs: 5000 });
    try {
      const names = ["deploy", "registry-ghcr.io", "smoke", "z"];
      for (const name of names) {
        const acquired = await store.apply({ op: "acquire", breaker: name, policy: DEFAULT_POLICY, permitId: randomUUID(), expectedDurationMs: 0 });
        expect(acquired.decision?.admitted).toBe(true);
      }
      const read = await store.apply({ op: "read", breakers: null });
      expect(read.states.map((s) => s.name)).toEqual(names);
      const slots = await Promise.all([`{${prefix}}breakers`, ...names.map((n) => `{${prefix}}breaker:${n}`)].map((k) => cluster.slotOf(k)));
      expect(new Set(slots).size).toBe(1);
      const { primary } = await cluster.shardOf(slots[0]!);
      const raw = new Redis({ host: "127.0.0.1", port: primary, lazyConnect: true });
      await raw.connect();
      try {
        expect((await raw.smembers(`{${prefix}}breakers`)).sort()).toEqual(names);
      } finally {
        raw.disconnect();
      }
      const pruned = await store.apply({ op: "prune", unusedForMs: 1000 * 86_400_000, dryRun: false });
      expect(pruned.prune?.removed).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe("loss of the Cluster primary holding the breakers' slot, under eight racing writers", () => {
  it("with minReplicas 1, loses no acknowledged write and counts no outcome twice, even after a replication blip", async () => {
    const r = await failoverTrial(clusterDeployment(cluster), writers, { minReplicas: 1, blipMs: 1000, runMs: 600 });
    reportTrial("Cluster, minReplicas 1, blip + kill", r);
    expect(r.accounting).toMatchObject({ lostOutcomes: 0, lostAdmissions: 0, countedTwice: 0, admittedTwice: 0 });
    expect(r.ledgers.flatMap((l) => l.errors).some((e) => e.name === "RedisReplicationError")).toBe(true);
    expectFailuresNameTheFailover(r, CLUSTER_ADDRESS);
    expect(r.recordedAfter).toBeGreaterThan(0);
  });

  it("without minReplicas, counts no outcome twice; what the replica never got is lost (reported)", async () => {
    const r = await failoverTrial(clusterDeployment(cluster), writers, { minReplicas: 0, blipMs: 1000, runMs: 600 });
    reportTrial("Cluster, no minReplicas, blip + kill", r);
    expect(r.accounting).toMatchObject({ countedTwice: 0, admittedTwice: 0 });
    expectFailuresNameTheFailover(r, CLUSTER_ADDRESS);
    expect(r.recordedAfter).toBeGreaterThan(0);
    expect(r.accounting.lostAcknowledged).toBeGreaterThan(0);
  });
});
