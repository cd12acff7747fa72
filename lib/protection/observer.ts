import type { CallOutcome } from "../core/outcome.js";
import type { LastError, Permit, Status, Transition } from "../core/state.js";
import type { RecordEffect } from "../core/transitions.js";

/** What a breaker decided, for traces and logs. */
export type BreakerEvent =
  | {
      kind: "admitted";
      breaker: string;
      permit: Permit;
      status: Status;
      /** Time spent waiting for a concurrency slot before admission. */
      waitedMs: number;
      /** Concurrency slots held after this admission; null when there is no limit. */
      slotsInUse: number | null;
      /** Observe mode: why enforce mode would have refused this call; null when it would not have. */
      wouldHaveRejected: string | null;
    }
  | {
      kind: "rejected";
      breaker: string;
      status: Status;
      reason: string;
      retryAt: number | null;
      message: string;
      /** Time spent waiting for a concurrency slot before the refusal. */
      waitedMs: number;
      /** Set when the refusal is for a full concurrency limit. */
      limit: { inUse: number; max: number } | null;
      /** Set when the refusal is for a full rate-limit period. */
      rateLimit: { used: number; max: number; periodMs: number } | null;
    }
  /** The retry budget allowed or refused one retry. */
  | { kind: "retry"; breaker: string; status: Status; allowed: boolean; used: number; allowance: number; windowMs: number }
  /** The breaker refused the call, or it failed, and the caller ran the workflow's fallback instead. */
  | { kind: "fallback"; breaker: string; status: Status; workflow: string; reason: string }
  | { kind: "recorded"; breaker: string; permit: Permit; outcome: CallOutcome; effect: RecordEffect; from: Status; status: Status }
  /** A transition one of this caller's state requests made; every transition reaches exactly one caller. */
  | { kind: "transition"; breaker: string; transition: Transition; lastError: LastError | null };

export interface BreakerObserver {
  observe(event: BreakerEvent): void;
}

export const silentObserver: BreakerObserver = { observe() {} };

/** Passes every event to each observer in turn. */
export function observeAll(...observers: BreakerObserver[]): BreakerObserver {
  return { observe: (event) => observers.forEach((o) => o.observe(event)) };
}
