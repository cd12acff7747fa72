import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY, type BreakerPolicy } from "../../lib/core/policy.js";
import { parseState, serializeState } from "../../lib/core/serialize.js";
import { initialState, type BreakerState } from "../../lib/core/state.js";
import { acquire, record } from "../../lib/core/transitions.js";
import { formatFailures, viewOf } from "../../lib/core/view.js";
import type { CallOutcome } from "../../lib/core/outcome.js";

const T0 = Date.UTC(2026, 11, 4, 9, 0, 0);
const ok: CallOutcome = { ok: true, durationMs: 10 };
const fail: CallOutcome = { ok: false, durationMs: 10, exitCode: 1, error: "registry 503" };
const neutral: CallOutcome = { ok: false, durationMs: 10, exitCode: 75, error: "try later" };

const fiveIn600: BreakerPolicy = { ...DEFAULT_POLICY, trip: { kind: "failures-in-time", threshold: 5, windowMs: 600_000 }, ignoredExitCodes: [75] };
const rateIn300: BreakerPolicy = {
  ...DEFAULT_POLICY,
  trip: { kind: "time-failure-rate", rate: 0.5, windowMs: 300_000, minimumCalls: 4 },
};

class Breaker {
  now = T0;
  state: BreakerState = initialState("registry", T0);
  private n = 0;
  constructor(readonly policy: BreakerPolicy) {}
  call(outcome: CallOutcome): void {
    const a = acquire(this.state, this.policy, this.now, `p${this.n++}`);
    if (!a.decision.admitted) throw new Error(`refused: ${a.decision.reason}`);
    this.state = record(a.state, this.policy, this.now, a.decision.permit, outcome).state;
  }
}

describe("failures within a time span (trip_policy: failure_count)", () => {
  it("opens at the fifth failure within 600 s, whatever successes fall between them", () => {
    const b = new Breaker(fiveIn600);
    for (let i = 0; i < 4; i++) {
      b.call(fail);
      b.call(ok);
      b.now += 60_000;
    }
    expect(b.state.status).toBe("closed");
    expect(formatFailures(viewOf(b.state, b.now))).toBe("4/5 failures in the last 600 s");
    b.call(fail);
    expect(b.state.status).toBe("open");
    expect(b.state.history.at(-1)?.reason).toMatch(/^5 failures within 600 s reached 5 \(last: registry 503\)/);
  });

  it("does not put last night's failures next to this morning's: they leave the window", () => {
    const b = new Breaker(fiveIn600);
    for (let i = 0; i < 4; i++) b.call(fail);
    b.now += 8 * 3_600_000;
    b.call(fail);
    expect(b.state.status).toBe("closed");
    expect(viewOf(b.state, b.now).failures).toMatchObject({ kind: "failures-in-time", failures: 1 });
  });

  it("keeps neutral (ignored) outcomes out of the window", () => {
    const b = new Breaker(fiveIn600);
    for (let i = 0; i < 10; i++) b.call(neutral);
    expect(b.state.outcomeBuckets).toEqual([]);
    for (let i = 0; i < 4; i++) b.call(fail);
    expect(b.state.status).toBe("closed");
  });

  it("does not keep failures longer when the clock goes back: their age keeps growing from the earlier time", () => {
    const b = new Breaker(fiveIn600);
    for (let i = 0; i < 4; i++) b.call(fail);
    // The clock is set back an hour, then eleven minutes pass: the four failures are eleven minutes old.
    b.now -= 3_600_000;
    b.call(ok);
    b.now += 660_000;
    b.call(fail);
    expect(b.state.status).toBe("closed");
    expect(viewOf(b.state, b.now).failures).toMatchObject({ failures: 1 });
  });

  it("keeps the window's failures when the clock goes back: they neither expire nor grow younger", () => {
    const b = new Breaker(fiveIn600);
    for (let i = 0; i < 4; i++) b.call(fail);
    b.now += 500_000;
    b.call(ok);
    b.now -= 3_600_000;
    b.call(fail);
    expect(b.state.status).toBe("open");
  });

  it("starts afresh when the breaker closes", () => {
    const b = new Breaker({ ...fiveIn600, resetTimeoutMs: 1_000 });
    for (let i = 0; i < 5; i++) b.call(fail);
    b.now += 1_000;
    b.call(ok);
    expect(b.state.status).toBe("closed");
    expect(b.state.outcomeBuckets).toEqual([]);
  });

  it("survives a round trip through stored JSON, and reads state written before the buckets existed", () => {
    const b = new Breaker(fiveIn600);
    for (let i = 0; i < 3; i++) b.call(fail);
    expect(parseState(serializeState(b.state), "registry")).toEqual(b.state);
    const old = JSON.parse(serializeState(initialState("registry", T0))) as Record<string, unknown>;
    delete old.outcomeBuckets;
    delete old.admissionBuckets;
    delete old.retryBuckets;
    delete old.clockAt;
    const read = parseState(JSON.stringify(old), "registry");
    expect(read.outcomeBuckets).toEqual([]);
    expect(read.clockAt).toBe(T0);
  });
});

describe("a failure rate over the last N seconds (failure_rate with window_seconds)", () => {
  it("decides only once minimum_calls outcomes are inside the window", () => {
    const b = new Breaker(rateIn300);
    b.call(fail);
    b.call(fail);
    b.call(fail);
    expect(b.state.status).toBe("closed");
    b.call(ok);
    expect(b.state.status).toBe("open");
    expect(b.state.history.at(-1)?.reason).toMatch(/^failure rate 75% over the 4 calls of the last 300 s reached 50%/);
  });

  it("counts minimum_calls inside the window: calls that left it do not count towards it", () => {
    const b = new Breaker(rateIn300);
    b.call(ok);
    b.call(ok);
    b.now += 400_000;
    b.call(fail);
    b.call(fail);
    expect(b.state.status).toBe("closed");
    expect(formatFailures(viewOf(b.state, b.now))).toBe("100% failed of 2 calls in the last 300 s (threshold 50%, min 4 calls)");
  });

  it("keeps a bounded state at any call rate", () => {
    const b = new Breaker({ ...rateIn300, trip: { ...rateIn300.trip, minimumCalls: 1_000_000 } as BreakerPolicy["trip"] });
    for (let i = 0; i < 10_000; i++) {
      b.call(i % 3 === 0 ? fail : ok);
      b.now += 97;
    }
    expect(b.state.outcomeBuckets.length).toBeLessThanOrEqual(62);
  });
});
