/**
 * The Redis store on one server, on a Sentinel-managed primary and on a Cluster, each against
 * its own bare floor in the same run, with and without replica acknowledgement (minReplicas 1,
 * WAIT); then acknowledged writes lost across a failover, with and without it.
 *
 *   npx tsx bench/redis-topologies.ts          (BENCH_SMOKE=1: one short round, same checks)
 *
 * Throughput: per round, for each deployment and variant in rotated order, one client makes
 * BENCH_OPS requests one after another: the floor is a GET of a key and a SET of that text
 * (the two round trips an uncontended store request makes, through the same kind of ioredis
 * client); the store variants alternate acquire and record on one breaker. Every deployment has
 * one replica per primary. ops/s is requests over the batch's time; latency is per request.
 *
 * Failover: the trial of the fault tests (tests/store/failover-trial.ts): eight writer
 * processes record failures on one breaker, the primary's replication link is cut for 1 s,
 * the primary is SIGKILLed and its replica promoted; lost = acknowledged acquires and records
 * missing from the final state. Any write counted twice fails the run, and so does any loss
 * with minReplicas 1.
 *
 * Knobs: BENCH_ROUNDS (5; smoke 1), BENCH_OPS (400; smoke 40), BENCH_TRIALS (2; smoke 1).
 */
import { randomUUID } from "node:crypto";
import { Cluster, Redis } from "ioredis";
import { DEFAULT_POLICY } from "../lib/core/policy.js";
import { RedisStateStore, type RedisStoreOptions } from "../lib/store/redis/index.js";
import { FailoverWriters } from "../tests/store/failover-writers.js";
import { clusterDeployment, failoverTrial, sentinelDeployment, type Deployment } from "../tests/store/failover-trial.js";
import { RedisClusterSet } from "../tests/store/redis-cluster-set.js";
import { RedisServer } from "../tests/store/redis-server.js";
import { FAST_SYNC, SentinelSet } from "../tests/store/redis-sentinel-set.js";
import { fixed, machineLine, markdownTable, median, quantile, ratio, relativeSpread, rotate, spread } from "./lib/measure.js";
import { printSmokeNotice, runSize } from "./lib/smoke.js";

const ROUNDS = runSize("BENCH_ROUNDS", 5, 1);
const OPS = runSize("BENCH_OPS", 400, 40);
const TRIALS = runSize("BENCH_TRIALS", 2, 1);

interface Variant {
  name: string;
  /** Runs `ops` requests one after another; returns each one's latency in ms. */
  batch(ops: number): Promise<number[]>;
  close(): Promise<void>;
}

async function timedLoop(ops: number, one: (i: number) => Promise<void>): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < ops; i++) {
    const started = performance.now();
    await one(i);
    latencies.push(performance.now() - started);
  }
  return latencies;
}

function floor(client: Redis | Cluster, key: string): Variant {
  return {
    name: "floor: GET + SET",
    batch: (ops) =>
      timedLoop(ops, async () => {
        const text = (await client.get(key)) ?? "x".repeat(600);
        await client.set(key, text);
      }),
    close: async () => client.disconnect(),
  };
}

function store(options: RedisStoreOptions, minReplicas: number): Variant {
  const s = new RedisStateStore({ ...options, prefix: `bench-${randomUUID().slice(0, 8)}:`, minReplicas });
  let permit: Extract<Awaited<ReturnType<RedisStateStore["apply"]>>["decision"], { admitted: true }>["permit"] | null = null;
  const policy = { ...DEFAULT_POLICY, trip: { kind: "consecutive" as const, threshold: 1_000_000_000 } };
  return {
    name: minReplicas === 0 ? "RedisStateStore" : "RedisStateStore, minReplicas 1 (WAIT)",
    batch: (ops) =>
      timedLoop(ops, async () => {
        if (permit === null) {
          const r = await s.apply({ op: "acquire", breaker: "bench", policy, permitId: randomUUID(), expectedDurationMs: 0 });
          if (!r.decision?.admitted) throw new Error("not admitted");
          permit = r.decision.permit;
        } else {
          await s.apply({ op: "record", breaker: "bench", policy, permit, outcome: { ok: true, durationMs: 1 } });
          permit = null;
        }
      }),
    close: () => s.close(),
  };
}

interface Row {
  deployment: string;
  variant: string;
  opsPerSecond: number[];
  ratios: number[];
  latencies: number[];
}

async function main(): Promise<void> {
  console.log(`# Redis topologies: store vs floor, and writes lost across a failover\n\n${machineLine()}`);
  printSmokeNotice();
  const [primary, sentinel, cluster, writers] = await Promise.all([
    RedisServer.start({ args: FAST_SYNC }),
    SentinelSet.start(),
    RedisClusterSet.start(),
    FailoverWriters.start(8),
  ]);
  const replica = await RedisServer.start({ args: [...FAST_SYNC, "--replicaof", "127.0.0.1", String(primary.port)] });
  let failed = false;
  try {
    const single: RedisStoreOptions = { host: "127.0.0.1", port: primary.port };
    const viaSentinel: RedisStoreOptions = { sentinels: sentinel.sentinelAddresses, masterName: sentinel.masterName };
    const viaCluster: RedisStoreOptions = { clusterNodes: cluster.seeds };
    const floorKey = `{bench-floor}:${randomUUID()}`;
    const deployments: { name: string; variants: Variant[] }[] = [
      { name: "single Redis", variants: [floor(new Redis({ host: "127.0.0.1", port: primary.port }), floorKey), store(single, 0), store(single, 1)] },
      {
        name: "Sentinel",
        variants: [floor(new Redis({ sentinels: sentinel.sentinelAddresses, name: sentinel.masterName }), floorKey), store(viaSentinel, 0), store(viaSentinel, 1)],
      },
      { name: "Cluster", variants: [floor(new Cluster(cluster.seeds, { scaleReads: "master" }), floorKey), store(viaCluster, 0), store(viaCluster, 1)] },
    ];
    const rows = new Map<string, Row>();
    for (const d of deployments) for (const v of d.variants) await v.batch(Math.min(20, OPS));
    for (let round = 0; round < ROUNDS; round++) {
      for (const d of rotate(deployments, round)) {
        const measured = new Map<string, { ops: number; latencies: number[] }>();
        for (const v of rotate(d.variants, round)) {
          const started = performance.now();
          const latencies = await v.batch(OPS);
          measured.set(v.name, { ops: OPS / ((performance.now() - started) / 1000), latencies });
        }
        const floorOps = measured.get("floor: GET + SET")!.ops;
        for (const [variant, m] of measured) {
          const key = `${d.name}/${variant}`;
          const row = rows.get(key) ?? { deployment: d.name, variant, opsPerSecond: [], ratios: [], latencies: [] };
          row.opsPerSecond.push(m.ops);
          row.ratios.push(m.ops / floorOps);
          row.latencies.push(...m.latencies);
          rows.set(key, row);
        }
      }
    }
    for (const d of deployments) await Promise.all(d.variants.map((v) => v.close()));
    const us = (ms: number) => Math.round(ms * 1000).toString();
    console.log(`\n## Throughput and latency (${ROUNDS} round(s) of ${OPS} sequential requests per variant, one client)\n`);
    console.log(
      markdownTable(
        ["deployment", "variant", "ops/s (median)", "spread p25–p75", "p50 µs", "p99 µs", "× floor"],
        [...rows.values()].map((r) => [
          r.deployment,
          r.variant,
          fixed(0)(median(r.opsPerSecond)),
          `${spread(r.opsPerSecond, fixed(0))} (${relativeSpread(r.opsPerSecond)})`,
          us(quantile(r.latencies, 0.5)),
          us(quantile(r.latencies, 0.99)),
          ratio(median(r.ratios)),
        ]),
        2,
      ),
    );

    console.log(`\n## Acknowledged writes lost across a failover (${TRIALS} trial(s) each, 8 writer processes, replication cut 1 s before the kill)\n`);
    const trialRows: string[][] = [];
    const targets: [string, Deployment][] = [
      ["Sentinel", sentinelDeployment(sentinel)],
      ["Cluster", clusterDeployment(cluster)],
    ];
    for (let trial = 0; trial < TRIALS; trial++) {
      for (const [name, deployment] of targets) {
        for (const minReplicas of [0, 1]) {
          const r = await failoverTrial(deployment, writers, { minReplicas, blipMs: 1000, runMs: 600 });
          const a = r.accounting;
          const acknowledged = a.acknowledgedAcquires + a.acknowledgedRecords;
          trialRows.push([
            name,
            minReplicas === 0 ? "no" : "minReplicas 1",
            String(acknowledged),
            `${a.lostAcknowledged} (${((a.lostAcknowledged / acknowledged) * 100).toFixed(1)}%)`,
            String(a.lostOutcomes),
            String(a.failedRequests),
            String(a.countedTwice + a.admittedTwice),
            String(r.failoverMs),
          ]);
          if (a.countedTwice + a.admittedTwice > 0) {
            console.error(`${name}, minReplicas ${minReplicas}: ${a.countedTwice + a.admittedTwice} write(s) counted twice`);
            failed = true;
          }
          if (minReplicas > 0 && a.lostAcknowledged > 0) {
            console.error(`${name}, minReplicas 1: ${a.lostAcknowledged} acknowledged write(s) lost`);
            failed = true;
          }
        }
      }
    }
    console.log(
      markdownTable(
        ["deployment", "replica ack", "acknowledged writes", "lost", "of which outcomes", "requests failed", "counted twice", "failover ms"],
        trialRows,
        2,
      ),
    );
  } finally {
    await writers.close();
    await Promise.all([primary.stop(), replica.stop(), sentinel.stop(), cluster.stop()]);
  }
  if (failed) process.exitCode = 1;
}

await main();
