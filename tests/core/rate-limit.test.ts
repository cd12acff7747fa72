import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY, type BreakerPolicy } from "../../lib/core/policy.js";
import { initialState, type BreakerState } from "../../lib/core/state.js";
import { acquire, record, type Decision } from "../../lib/core/transitions.js";
import { viewOf } from "../../lib/core/view.js";

const T0 = Date.UTC(2026, 11, 4, 9, 0, 0);
const HOUR = 3_600_000;
const tenPerHour: BreakerPolicy = { ...DEFAULT_POLICY, rateLimit: { calls: 10, periodMs: HOUR } };

class Breaker {
  now = T0;
  state: BreakerState = initialState("prod-deploy", T0);
  private n = 0;
  constructor(readonly policy: BreakerPolicy) {}
  acquire(fallback = false): Decision {
    const r = acquire(this.state, this.policy, this.now, `p${this.n++}`, { fallback });
    this.state = r.state;
    return r.decision;
  }
}

describe("rate_limit", () => {
  it("admits N calls per period, then refuses saying when the next slot frees, without counting a failure", () => {
    const b = new Breaker(tenPerHour);
    for (let i = 0; i < 10; i++) {
      expect(b.acquire().admitted).toBe(true);
      b.now += 60_000;
    }
    const refused = b.acquire();
    expect(refused).toMatchObject({
      admitted: false,
      reason: "has admitted its 10 call(s) per 3600 s (rate_limit)",
      rateLimit: { used: 10, max: 10, periodMs: HOUR },
      // The first call's bucket (one minute wide) leaves the hour at T0 + 1 min + 1 h.
      retryAt: T0 + 60_000 + HOUR,
    });
    expect(b.state.counters).toMatchObject({ rateLimitRefusals: 1, rejections: 0, failures: 0, admitted: 10 });
    expect(b.state.status).toBe("closed");
    expect(viewOf(b.state, b.now).rateLimit).toEqual({ used: 10, max: 10, periodMs: HOUR, nextSlotAt: T0 + 60_000 + HOUR });
    b.now = T0 + 60_000 + HOUR;
    expect(b.acquire().admitted).toBe(true);
  });

  it("is shared by every caller of the breaker: refusals and admissions from any of them count", () => {
    const b = new Breaker({ ...DEFAULT_POLICY, rateLimit: { calls: 2, periodMs: 60_000 } });
    const a = b.acquire();
    if (!a.admitted) throw new Error("refused");
    b.state = record(b.state, b.policy, b.now, a.permit, { ok: true, durationMs: 1 }).state;
    b.acquire();
    expect(b.acquire().admitted).toBe(false);
  });

  it("admits in observe mode, counting the call that would have been refused", () => {
    const b = new Breaker({ ...tenPerHour, rateLimit: { calls: 1, periodMs: HOUR }, mode: "observe" });
    b.acquire();
    const second = b.acquire();
    expect(second).toMatchObject({ admitted: true, wouldHaveRejected: { rateLimit: { used: 1, max: 1 } } });
    expect(b.state.counters).toMatchObject({ wouldHaveRejected: 1, rateLimitRefusals: 0 });
  });

  it("is checked after the breaker's status: an open breaker's refusal is a rejection, not a rate-limit refusal", () => {
    const b = new Breaker({ ...tenPerHour, rateLimit: { calls: 1, periodMs: HOUR } });
    b.acquire();
    b.state = { ...b.state, status: "open", openUntil: T0 + 60_000 };
    expect(b.acquire()).toMatchObject({ admitted: false, reason: "is open" });
    expect(b.state.counters).toMatchObject({ rejections: 1, rateLimitRefusals: 0 });
  });

  it("counts a refused call whose caller runs a fallback", () => {
    const b = new Breaker({ ...tenPerHour, rateLimit: { calls: 1, periodMs: HOUR } });
    b.acquire(true);
    b.acquire(true);
    b.acquire(false);
    b.acquire(false);
    expect(b.state.counters).toMatchObject({ fallbacks: 1, rateLimitRefusals: 3 });
  });
});
