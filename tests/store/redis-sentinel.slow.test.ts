import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectFailuresNameTheFailover, reportTrial } from "./failover-checks.js";
import { FailoverWriters } from "./failover-writers.js";
import { failoverTrial, sentinelDeployment } from "./failover-trial.js";
import { SentinelSet } from "./redis-sentinel-set.js";

/**
 * A Sentinel-managed primary SIGKILLed while eight processes record failures on one breaker,
 * and a replica promoted. Sentinel is tuned to judge the primary down after 1 s, so a failover
 * takes 2-3 s here instead of 30 s and more.
 */

const WRITERS = 8;
let set: SentinelSet;
let writers: FailoverWriters;

beforeAll(async () => {
  [set, writers] = await Promise.all([SentinelSet.start(), FailoverWriters.start(WRITERS)]);
});
afterAll(async () => {
  await writers?.close();
  await set?.stop();
});

/** How the failures of a trial name this deployment. */
const SENTINEL_ADDRESS = /redis-sentinel:\/\/127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+){2}\/cb-primary/;

describe("SIGKILL of a Sentinel-managed primary under eight racing writers", () => {
  it("with minReplicas 1, loses no acknowledged write and counts no outcome twice, even after a replication blip", async () => {
    const r = await failoverTrial(sentinelDeployment(set), writers, { minReplicas: 1, blipMs: 1000, runMs: 600 });
    reportTrial("Sentinel, minReplicas 1, blip + kill", r);
    expect(r.accounting).toMatchObject({ lostOutcomes: 0, lostAdmissions: 0, countedTwice: 0, admittedTwice: 0 });
    // The fault was felt: writes the replica did not acknowledge failed.
    expect(r.accounting.failedRequests).toBeGreaterThan(0);
    expect(r.ledgers.flatMap((l) => l.errors).some((e) => e.name === "RedisReplicationError")).toBe(true);
    expectFailuresNameTheFailover(r, SENTINEL_ADDRESS);
    // And the breaker works again once the killed node is back as a replica.
    expect(r.recordedAfter).toBeGreaterThan(0);
  });

  it("without minReplicas, counts no outcome twice; the writes the replica never got are lost (reported)", async () => {
    const blip = await failoverTrial(sentinelDeployment(set), writers, { minReplicas: 0, blipMs: 1000, runMs: 600 });
    reportTrial("Sentinel, no minReplicas, blip + kill", blip);
    expect(blip.accounting).toMatchObject({ countedTwice: 0, admittedTwice: 0 });
    expectFailuresNameTheFailover(blip, SENTINEL_ADDRESS);
    expect(blip.recordedAfter).toBeGreaterThan(0);
    // Acknowledged by the primary alone during the blip, gone with it.
    expect(blip.accounting.lostAcknowledged).toBeGreaterThan(0);

    const plain = await failoverTrial(sentinelDeployment(set), writers, { minReplicas: 0, blipMs: 0, runMs: 600 });
    reportTrial("Sentinel, no minReplicas, plain kill", plain);
    expect(plain.accounting).toMatchObject({ countedTwice: 0, admittedTwice: 0 });
    expectFailuresNameTheFailover(plain, SENTINEL_ADDRESS);
  });
});
