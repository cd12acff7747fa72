import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY, openDurationMs, type BreakerPolicy } from "../../lib/core/policy.js";
import { initialState } from "../../lib/core/state.js";
import { acquire, record } from "../../lib/core/transitions.js";
import { seededRandom } from "../../lib/workflow/backoff.js";

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const fail = { ok: false, durationMs: 10, exitCode: 1, error: "registry down" };
const jittered: BreakerPolicy = { ...DEFAULT_POLICY, trip: { kind: "consecutive", threshold: 1 }, resetTimeoutJitter: 0.2 };

/** Opens a fresh breaker with one failure, the jitter draw given to the opening report. */
function openedUntil(policy: BreakerPolicy, random: number): number | null {
  const a = acquire(initialState("registry-eu", T0), policy, T0, "p");
  if (!a.decision.admitted) throw new Error("expected admission");
  return record(a.state, policy, T0, a.decision.permit, fail, random).state.openUntil;
}

describe("reset_timeout_jitter", () => {
  it("spreads the open time by at most ±jitter, its ends reached by the extreme draws", () => {
    expect(openedUntil(jittered, 0)).toBe(T0 + 48_000);
    expect(openedUntil(jittered, 0.5)).toBe(T0 + 60_000);
    expect(openedUntil(jittered, 0.999_999)).toBe(T0 + 72_000);
  });

  it("gives breakers that opened together different probe times, the same ones for the same seed", () => {
    const draw = seededRandom(7);
    const times = Array.from({ length: 20 }, () => openedUntil(jittered, draw()));
    expect(new Set(times).size).toBeGreaterThan(15);
    const again = seededRandom(7);
    expect(Array.from({ length: 20 }, () => openedUntil(jittered, again()))).toEqual(times);
  });

  it("spreads nothing when off, whatever the draw", () => {
    const off = { ...jittered, resetTimeoutJitter: 0 };
    expect(openedUntil(off, 0)).toBe(T0 + 60_000);
    expect(openedUntil(off, 0.9)).toBe(T0 + 60_000);
  });

  it("jitters the grown open time of a re-open as well", () => {
    const policy = { ...jittered, resetTimeoutMultiplier: 2 };
    expect(openDurationMs(policy, 1, 0)).toBe(96_000);
    expect(openDurationMs(policy, 1, 0.5)).toBe(120_000);
  });
});
