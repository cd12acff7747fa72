/**
 * A breaker history known to the second, built with the pure core and a fake clock as every
 * store drives it: both history-chart tests draw it and check the picture against `bands`.
 */
import type { CallOutcome } from "../../lib/core/outcome.js";
import { DEFAULT_POLICY, type BreakerPolicy } from "../../lib/core/policy.js";
import { initialState, type BreakerState, type Status } from "../../lib/core/state.js";
import { acquire, advance, disable, record, reset, trip } from "../../lib/core/transitions.js";

export const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);
const s = (seconds: number): number => T0 + seconds * 1000;

const POLICY: BreakerPolicy = {
  ...DEFAULT_POLICY,
  trip: { kind: "consecutive", threshold: 2 },
  resetTimeoutMs: 60_000,
  resetTimeoutMultiplier: 2,
  ignoredExitCodes: [75],
};

export interface KnownHistory {
  state: BreakerState;
  now: number;
  /** Every state the breaker was in, from its first kept transition to `now`. */
  bands: { status: Status; from: number; to: number }[];
}

/** `name` and `error` are there to be made hostile; the times do not depend on them. */
export function knownHistory(name = "staging-api", error = "step deploy exited 1: 502 Bad Gateway"): KnownHistory {
  let state = initialState(name, s(0));
  let n = 0;
  const call = (at: number, outcome: CallOutcome): void => {
    const r = acquire(state, POLICY, s(at), `p${n++}`);
    if (!r.decision.admitted) throw new Error(`known history: call at ${at} s refused: ${r.decision.reason}`);
    state = record(r.state, POLICY, s(at + 5), r.decision.permit, outcome).state;
  };
  const failure: CallOutcome = { ok: false, durationMs: 5000, exitCode: 1, error };
  call(0, failure);
  call(55, failure); // opens at 60 s for 60 s
  call(120, failure); // the probe, admitted at 120 s (half-open), fails at 125 s: open for 120 s
  call(245, { ok: true, durationMs: 5000 }); // half-open at 245 s, closed at 250 s
  call(355, { ok: false, durationMs: 5000, exitCode: 75, error: "registry says try later" }); // neutral at 360 s
  state = trip(state, POLICY, s(420), 60_000); // forced open until 480 s
  state = advance(state, POLICY, s(480)); // half-open at 480 s
  state = reset(state, POLICY, s(500));
  state = disable(state, POLICY, s(540));
  const band = (status: Status, from: number, to: number) => ({ status, from: s(from), to: s(to) });
  return {
    state,
    now: s(600),
    bands: [
      band("open", 60, 120),
      band("half-open", 120, 125),
      band("open", 125, 245),
      band("half-open", 245, 250),
      band("closed", 250, 420),
      band("forced-open", 420, 480),
      band("half-open", 480, 500),
      band("closed", 500, 540),
      band("disabled", 540, 600),
    ],
  };
}
