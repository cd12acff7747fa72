import { randomUUID } from "node:crypto";
import type { BreakerState } from "../../lib/core/state.js";
import { RedisStateStore, type RedisStoreOptions } from "../../lib/store/redis/index.js";
import { account, type Accounting, type Ledger } from "./failover-ledger.js";
import type { FailoverWriters } from "./failover-writers.js";
import type { RedisClusterSet } from "./redis-cluster-set.js";
import { withClient, type SentinelSet } from "./redis-sentinel-set.js";

/**
 * One failover under load, for the fault tests and the benchmark alike: racing writers record
 * failures on a fresh breaker, the primary holding it is SIGKILLed (optionally after its link to
 * the replica was cut for a while, as a network blip would), the replica is promoted, the killed
 * node comes back as a replica, the writers go on, and the final state is accounted for.
 */

export interface Deployment {
  /** Options that reach this deployment; the trial adds a prefix, timeouts and minReplicas. */
  address: RedisStoreOptions;
  primaryPort(prefix: string): Promise<number>;
  waitForNewPrimary(prefix: string, oldPort: number): Promise<number>;
  kill(port: number): Promise<void>;
  rejoin(oldPort: number, newPort: number): Promise<void>;
}

export function sentinelDeployment(set: SentinelSet): Deployment {
  return {
    address: { sentinels: set.sentinelAddresses, masterName: set.masterName },
    primaryPort: () => set.primaryPort(),
    waitForNewPrimary: (_, old) => set.waitForFailover(old),
    kill: (port) => set.node(port).killAndWait(),
    rejoin: (old, now) => set.rejoinAsReplica(set.node(old), now),
  };
}

export function clusterDeployment(set: RedisClusterSet): Deployment {
  const slot = (prefix: string) => set.slotOf(`{${prefix}}breakers`);
  return {
    address: { clusterNodes: set.seeds },
    primaryPort: async (prefix) => (await set.shardOf(await slot(prefix))).primary,
    waitForNewPrimary: async (prefix, old) => set.waitForPromotion(await slot(prefix), old),
    kill: (port) => set.node(port).killAndWait(),
    rejoin: (old) => set.rejoin(set.node(old)),
  };
}

export interface TrialOptions {
  minReplicas: number;
  /** Cut the primary's replication links for this long before the kill; 0: a plain kill. */
  blipMs: number;
  /** How long the writers run before the fault and after the killed node is back. */
  runMs: number;
  /** Each command's limit; WAIT gets most of it. */
  timeoutMs?: number;
  failoverTimeoutMs?: number;
}

export interface TrialResult {
  accounting: Accounting;
  ledgers: Ledger[];
  state: BreakerState;
  /** From the kill until every observer names the new primary. */
  failoverMs: number;
  /** Records acknowledged after the killed node was back as a replica. */
  recordedAfter: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Cuts the primary's replicas off for `ms`, so writes acknowledged meanwhile exist on the
 * primary only: the primary starts asking for a password its replicas do not have, and drops
 * their links; they cannot reconnect. Connections already open (the writers', the Sentinels')
 * stay authenticated. The primary is killed right after, so nothing needs undoing.
 */
async function cutReplication(port: number, ms: number): Promise<void> {
  await withClient(port, async (redis) => {
    await redis.call("CONFIG", "SET", "requirepass", randomUUID());
    await redis.call("CLIENT", "KILL", "TYPE", "replica");
  });
  await sleep(ms);
}

export async function failoverTrial(deployment: Deployment, writers: FailoverWriters, trial: TrialOptions): Promise<TrialResult> {
  const prefix = `failover-${randomUUID().slice(0, 8)}:`;
  const breaker = "fleet";
  const options: RedisStoreOptions = {
    ...deployment.address,
    prefix,
    timeoutMs: trial.timeoutMs ?? 500,
    failoverTimeoutMs: trial.failoverTimeoutMs ?? 15_000,
    minReplicas: trial.minReplicas,
    // Eight writers in tight loops for seconds: a request that runs out of compare-and-set
    // attempts is contention (redis-hostile.test.ts covers it), not what these trials measure.
    maxAttempts: 10_000,
  };
  const primary = await deployment.primaryPort(prefix);
  const reader = new RedisStateStore({ ...deployment.address, prefix, timeoutMs: 2000, failoverTimeoutMs: 10_000 });
  try {
    writers.start(options, breaker);
    // Writer processes take a while to connect on a busy machine: the fault comes once they write.
    await until(async () => ((await reader.apply({ op: "read", breakers: [breaker] })).states[0]?.counters.failures ?? 0) >= 40);
    await sleep(trial.runMs);
    return await fault(deployment, writers, trial, { primary, prefix, breaker, reader });
  } finally {
    await reader.close();
  }
}

async function until(probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`the writers did not get going within ${timeoutMs} ms`);
    await sleep(50);
  }
}

async function fault(
  deployment: Deployment,
  writers: FailoverWriters,
  trial: TrialOptions,
  { primary, prefix, breaker, reader }: { primary: number; prefix: string; breaker: string; reader: RedisStateStore },
): Promise<TrialResult> {
  if (trial.blipMs > 0) await cutReplication(primary, trial.blipMs);
  const killedAt = Date.now();
  await deployment.kill(primary);
  const promoted = await deployment.waitForNewPrimary(prefix, primary);
  const failoverMs = Date.now() - killedAt;
  await deployment.rejoin(primary, promoted);
  const backAt = Date.now();
  await sleep(trial.runMs);
  const ledgers = await writers.stop();
  const state = (await reader.apply({ op: "read", breakers: [breaker] })).states[0];
  if (!state) throw new Error(`breaker ${breaker} has no state after the trial`);
  return {
    accounting: account(ledgers, state),
    ledgers,
    state,
    failoverMs,
    recordedAfter: ledgers.reduce((n, l) => n + l.recordedAt.filter((t) => t > backAt).length, 0),
  };
}
