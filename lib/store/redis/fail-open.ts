import { DEFAULT_POLICY } from "../../core/policy.js";
import { initialState, type Permit } from "../../core/state.js";
import type { StateRequest, StateResponse } from "../request.js";

/**
 * What a fail-open store answers when Redis cannot be reached. None of it is stored anywhere:
 * the state in these responses is a placeholder (a closed breaker) so that callers that need
 * a state get one, and the warning says that it is not the breaker's real state.
 */

/**
 * Permits issued without Redis carry this prefix in their id. The permit type has no room for
 * a flag, and the id travels with the permit token across `dagger call` runs, so whichever
 * store later sees the permit knows there is nothing in Redis to record it against.
 */
export const UNRECORDED_PERMIT_PREFIX = "unrecorded-";

export function isUnrecordedPermit(permit: Permit): boolean {
  return permit.id.startsWith(UNRECORDED_PERMIT_PREFIX);
}

type AcquireRequest = Extract<StateRequest, { op: "acquire" }>;
type ReportRequest = Extract<StateRequest, { op: "record" | "cancel" }>;

function placeholder(breaker: string, request: AcquireRequest | ReportRequest, now: number): StateResponse["states"] {
  return [{ ...initialState(breaker, now), policy: request.policy ?? DEFAULT_POLICY }];
}

/** Lets the call through: the breaker cannot decide, and the policy says to run anyway. */
export function admitUnprotected(request: AcquireRequest, now: number, why: string): StateResponse {
  const permit: Permit = {
    id: `${UNRECORDED_PERMIT_PREFIX}${request.permitId}`,
    breaker: request.breaker,
    generation: 0,
    probe: false,
    issuedAt: now,
    expiresAt: null,
  };
  return {
    now,
    states: placeholder(request.breaker, request, now),
    problems: [],
    decision: { admitted: true, permit },
    warnings: [
      `circuit breaker "${request.breaker}" was NOT consulted: ${why}. ` +
        `The call runs unprotected (failure policy: fail-open) and its outcome will not be recorded.`,
    ],
  };
}

/** Drops an outcome that cannot be recorded, without failing the caller. */
/** `why` is null for a permit issued without Redis, which has nothing to report to. */
export function dropReport(request: ReportRequest, now: number, why: string | null): StateResponse {
  const permit = request.permit;
  const reason = why === null || isUnrecordedPermit(permit)
    ? `permit ${permit.id} was issued while Redis was unreachable (fail-open), so there is nothing to ${request.op}`
    : `the ${request.op} of permit ${permit.id} was not stored: ${why} (failure policy: fail-open)` +
      (permit.probe ? "; the probe's slot is freed at its deadline, when it counts as a failure" : "");
  return {
    now,
    states: placeholder(request.breaker, request, now),
    problems: [],
    ...(request.op === "record" ? { effect: "ignored" as const } : {}),
    warnings: [`circuit breaker "${request.breaker}": ${reason}.`],
  };
}

/** Lets a retry through unbudgeted: the budget cannot be consulted, and the policy says to run anyway. */
export function allowUnbudgetedRetry(request: Extract<StateRequest, { op: "retry" }>, now: number, why: string): StateResponse {
  return {
    now,
    states: [{ ...initialState(request.breaker, now), policy: request.policy }],
    problems: [],
    retry: { allowed: true, used: 0, allowance: 0, firstAttempts: 0, windowMs: 0 },
    warnings: [`circuit breaker "${request.breaker}": the retry budget was NOT consulted: ${why}. The retry runs (failure policy: fail-open).`],
  };
}
