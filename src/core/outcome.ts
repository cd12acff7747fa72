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
}

export type Verdict =
  | { kind: "success" }
  | { kind: "failure"; reason: string }
  | { kind: "ignored"; reason: string };

/** Decides how an outcome counts under the policy. */
export function classify(outcome: CallOutcome, policy: BreakerPolicy): Verdict {
  if (!outcome.ok) {
    const code = outcome.exitCode ?? null;
    if (code !== null && policy.ignoredExitCodes.includes(code)) {
      return { kind: "ignored", reason: `exit code ${code} is configured not to count` };
    }
    return { kind: "failure", reason: outcome.error ?? (code === null ? "failed" : `exit code ${code}`) };
  }
  const slow = policy.slowCallThresholdMs;
  if (slow !== null && outcome.durationMs > slow) {
    return {
      kind: "failure",
      reason: `slow call: took ${outcome.durationMs} ms, over the ${slow} ms threshold`,
    };
  }
  return { kind: "success" };
}
