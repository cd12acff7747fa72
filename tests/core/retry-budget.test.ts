import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY, type BreakerPolicy } from "../../lib/core/policy.js";
import { initialState, type BreakerState } from "../../lib/core/state.js";
import { acquire, spendRetry, type RetryDecision } from "../../lib/core/transitions.js";
import { viewOf } from "../../lib/core/view.js";

const T0 = Date.UTC(2026, 11, 4, 9, 0, 0);
const budgeted: BreakerPolicy = { ...DEFAULT_POLICY, retryBudget: { ratio: 0.2, minPerMinute: 1, windowMs: 60_000 } };

class Breaker {
  now = T0;
  state: BreakerState = initialState("registry", T0);
  private n = 0;
  constructor(readonly policy: BreakerPolicy) {}
  admit(times: number): void {
    for (let i = 0; i < times; i++) this.state = acquire(this.state, this.policy, this.now, `p${this.n++}`).state;
  }
  retry(): RetryDecision {
    const r = spendRetry(this.state, this.policy, this.now);
    this.state = r.state;
    return r.retry;
  }
}

describe("retry_budget", () => {
  it("allows ratio × first attempts plus the per-minute floor within the window, then refuses", () => {
    const b = new Breaker(budgeted);
    b.admit(10);
    // 0.2 × 10 + 1 × 1 minute = 3 retries.
    expect([b.retry(), b.retry(), b.retry()].map((r) => r.allowed)).toEqual([true, true, true]);
    expect(b.retry()).toEqual({ allowed: false, used: 3, allowance: 3, firstAttempts: 10, windowMs: 60_000 });
    expect(b.state.counters).toMatchObject({ retries: 3, retryBudgetRefusals: 1, failures: 0 });
    expect(viewOf(b.state, b.now).retryBudget).toEqual({ used: 3, allowance: 3, firstAttempts: 10, windowMs: 60_000 });
  });

  it("lets a quiet breaker retry up to its floor, and refills as the window slides", () => {
    const b = new Breaker(budgeted);
    b.admit(1);
    expect(b.retry().allowed).toBe(true);
    expect(b.retry().allowed).toBe(false);
    b.now += 61_000;
    b.admit(1);
    expect(b.retry().allowed).toBe(true);
  });

  it("counts first attempts only when admitted: refused calls add no budget", () => {
    const b = new Breaker({ ...budgeted, retryBudget: { ratio: 1, minPerMinute: 0, windowMs: 60_000 }, rateLimit: { calls: 1, periodMs: 60_000 } });
    b.admit(5);
    expect(b.state.counters.admitted).toBe(1);
    expect(b.retry().allowed).toBe(true);
    expect(b.retry().allowed).toBe(false);
  });

  it("allows every retry, counting them, when the breaker has no budget", () => {
    const b = new Breaker(DEFAULT_POLICY);
    expect(b.retry().allowed).toBe(true);
    expect(b.state.counters.retries).toBe(1);
    expect(b.state.retryBuckets).toEqual([]);
  });
});
