import type { CallOutcome } from "../core/outcome.js";
import type { Permit, Status } from "../core/state.js";
import type { RecordEffect } from "../core/transitions.js";

/** What a breaker decided, for traces and logs. */
export type BreakerEvent =
  | { kind: "admitted"; breaker: string; permit: Permit; status: Status }
  | { kind: "rejected"; breaker: string; status: Status; reason: string; retryAt: number | null; message: string }
  | { kind: "recorded"; breaker: string; permit: Permit; outcome: CallOutcome; effect: RecordEffect; from: Status; status: Status };

export interface BreakerObserver {
  observe(event: BreakerEvent): void;
}

export const silentObserver: BreakerObserver = { observe() {} };
