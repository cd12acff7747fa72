// What the Sentinel and Cluster fault tests print and check of a failover trial.
import { expect } from "vitest";
import type { TrialResult } from "./failover-trial.js";

/** One line of accounting per trial, so a run's log shows what was lost and what failed. */
export function reportTrial(label: string, r: TrialResult): void {
  const a = r.accounting;
  console.log(
    `${label}: ${a.acknowledgedAcquires} acquires and ${a.acknowledgedRecords} records acknowledged, ${a.failedRequests} requests failed; ` +
      `lost: ${a.lostAcknowledged} acknowledged writes (${a.lostOutcomes} outcomes, ${a.lostAdmissions} admissions); ` +
      `counted twice: ${a.countedTwice}; failover ${r.failoverMs} ms`,
  );
}

/** Every request that failed, failed under the policy (fail-closed), naming the failover and the deployment. */
export function expectFailuresNameTheFailover(r: TrialResult, deployment: RegExp): void {
  for (const error of r.ledgers.flatMap((l) => l.errors)) {
    expect(["RedisUnavailableError", "RedisReplicationError"]).toContain(error.name);
    expect(error.message).toContain("failover");
    expect(error.message).toMatch(deployment);
  }
}
