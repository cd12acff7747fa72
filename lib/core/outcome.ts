import type { BreakerPolicy } from "./policy.js";

/**
 * What a protected call reports. Errors of the caller (unknown workflow, bad config, bad
 * arguments) are never reported: the Dagger layer cancels the permit instead.
 */
export interface CallOutcome {
  ok: boolean;
  durationMs: number;
  /** Exit code of the failed step, when the failure was a process exit. */
  exitCode?: number | null;
  /** Short description of the failure; kept as the breaker's last error. */
  error?: string;
  /**
   * How a failure counts when the caller's own rules already decided it (a failure rule, an
   * unguarded step); `ignoredExitCodes` is then not consulted. `rule` names what decided.
   */
  classified?: { counts: boolean; rule: string };
  /** The wait the failing service asked for (Retry-After): the open time if this failure opens the breaker. */
  retryAfter?: RequestedWait;
}

/** An open time asked for by the dependency, and where it was read, for the rejection message. */
export interface RequestedWait {
  ms: number;
  source: string;
}

export type Verdict =
  | { kind: "success" }
  | { kind: "failure"; reason: string; rule: string }
  | { kind: "ignored"; reason: string; rule: string };

/** Decides how an outcome counts under the policy; every verdict but success names its rule. */
export function classify(outcome: CallOutcome, policy: BreakerPolicy): Verdict {
  if (!outcome.ok) {
    const code = outcome.exitCode ?? null;
    const reason = outcome.error ?? (code === null ? "failed" : `exit code ${code}`);
    const decided = outcome.classified;
    if (decided !== undefined) {
      return decided.counts ? { kind: "failure", reason, rule: decided.rule } : { kind: "ignored", reason, rule: decided.rule };
    }
    if (code !== null && policy.ignoredExitCodes.includes(code)) {
      return { kind: "ignored", reason: `exit code ${code} is configured not to count`, rule: "ignored_exit_codes" };
    }
    return { kind: "failure", reason, rule: "default: every failure counts" };
  }
  const slow = policy.slowCallThresholdMs;
  if (slow !== null && outcome.durationMs > slow) {
    return {
      kind: "failure",
      reason: `slow call: took ${outcome.durationMs} ms, over the ${slow} ms threshold`,
      rule: "slow_call_threshold",
    };
  }
  return { kind: "success" };
}
