import { describe, expect, it } from "vitest";
import type { CallOutcome } from "../../lib/core/outcome.js";
import { DEFAULT_POLICY, type BreakerPolicy } from "../../lib/core/policy.js";
import { initialState, type BreakerState, type Permit } from "../../lib/core/state.js";
import { acquire, advance, cancel, disable, record, reset, trip, type Decision } from "../../lib/core/transitions.js";

const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);
const ok = { ok: true, durationMs: 10 };
const fail = (exitCode = 1) => ({ ok: false, durationMs: 10, exitCode, error: `step deploy exited ${exitCode}` });

/** A breaker driven by a fake clock, the way every store drives the core. */
class Harness {
  now = T0;
  state: BreakerState = initialState("deploy", T0);
  private next = 0;
  constructor(readonly policy: BreakerPolicy = DEFAULT_POLICY) {}

  tick(ms: number): this {
    this.now += ms;
    return this;
  }
  acquire(expectedDurationMs?: number): Decision {
    const r = acquire(this.state, this.policy, this.now, `p${this.next++}`, { expectedDurationMs });
    this.state = r.state;
    return r.decision;
  }
  permit(): Permit {
    const d = this.acquire();
    if (!d.admitted) throw new Error(`expected admission, got: ${d.reason}`);
    return d.permit;
  }
  report(permit: Permit, outcome: CallOutcome) {
    const r = record(this.state, this.policy, this.now, permit, outcome);
    this.state = r.state;
    return r.effect;
  }
  run(outcome: CallOutcome) {
    return this.report(this.permit(), outcome);
  }
}

describe("closed", () => {
  it("opens after exactly failure_threshold consecutive failures", () => {
    const b = new Harness();
    for (let i = 0; i < 4; i++) b.run(fail());
    expect(b.state.status).toBe("closed");
    b.run(fail());
    expect(b.state.status).toBe("open");
    expect(b.state.openUntil).toBe(T0 + 60_000);
    expect(b.state.history.at(-1)).toMatchObject({ from: "closed", to: "open" });
    expect(b.state.history.at(-1)?.reason).toContain("5 consecutive failures reached (last: step deploy exited 1)");
  });

  it("counts failures truly consecutively: a success resets the run", () => {
    const b = new Harness();
    for (let round = 0; round < 100; round++) {
      for (let i = 0; i < 4; i++) b.run(fail());
      b.run(ok);
    }
    expect(b.state.status).toBe("closed");
    expect(b.state.counters.failures).toBe(400);
  });

  it("does not count ignored exit codes", () => {
    const b = new Harness({ ...DEFAULT_POLICY, ignoredExitCodes: [75] });
    for (let i = 0; i < 10; i++) expect(b.run(fail(75))).toBe("ignored");
    expect(b.state.status).toBe("closed");
    expect(b.state.counters.ignored).toBe(10);
    expect(b.state.consecutiveFailures).toBe(0);
  });

  it("counts a slow success as a failure when a slow-call threshold is set", () => {
    const b = new Harness({ ...DEFAULT_POLICY, slowCallThresholdMs: 1000, trip: { kind: "consecutive", threshold: 2 } });
    b.run({ ok: true, durationMs: 999 });
    b.run({ ok: true, durationMs: 1001 });
    b.run({ ok: true, durationMs: 5000 });
    expect(b.state.status).toBe("open");
    expect(b.state.lastError?.message).toContain("slow call: took 5000 ms");
  });
});

describe("failure-rate policy", () => {
  const policy: BreakerPolicy = {
    ...DEFAULT_POLICY,
    trip: { kind: "failure-rate", rate: 0.5, windowSize: 10, minimumCalls: 4 },
  };

  it("waits for the minimum number of calls", () => {
    const b = new Harness(policy);
    for (let i = 0; i < 3; i++) b.run(fail());
    expect(b.state.status).toBe("closed");
    b.run(fail());
    expect(b.state.status).toBe("open");
  });

  it("opens when the rate over the window reaches the threshold, not before", () => {
    const b = new Harness(policy);
    for (let i = 0; i < 6; i++) b.run(ok);
    for (let i = 0; i < 4; i++) b.run(fail());
    expect(b.state.status).toBe("closed"); // 4 of 10
    b.run(fail()); // window slides: 5 of 10
    expect(b.state.status).toBe("open");
    expect(b.state.history.at(-1)?.reason).toContain("failure rate 50% over the last 10 calls");
  });

  it("forgets outcomes that slid out of the window", () => {
    const b = new Harness(policy);
    for (let i = 0; i < 4; i++) b.run(i % 2 === 1 ? fail() : ok);
    expect(b.state.status).toBe("open"); // 2 of 4 = 50%
    const c = new Harness(policy);
    for (let i = 0; i < 1000; i++) c.run(i % 4 === 0 ? fail() : ok);
    expect(c.state.status).toBe("closed");
    expect(c.state.window).toHaveLength(10);
  });
});

function opened(policy: BreakerPolicy = DEFAULT_POLICY): Harness {
  const b = new Harness(policy);
  const threshold = policy.trip.kind === "consecutive" ? policy.trip.threshold : 1;
  for (let i = 0; i < threshold; i++) b.run(fail());
  expect(b.state.status).toBe("open");
  return b;
}

describe("open", () => {
  it("rejects until reset_timeout has passed and says when to retry", () => {
    const b = opened();
    b.tick(59_999);
    const d = b.acquire();
    expect(d).toEqual({ admitted: false, reason: "is open", retryAt: T0 + 60_000 });
    expect(b.state.counters.rejections).toBe(1);
    b.tick(1);
    const probe = b.acquire();
    expect(probe.admitted && probe.permit.probe).toBe(true);
    expect(b.state.status).toBe("half-open");
  });

  it("grows the open time on each re-open, up to the cap, and a close resets it", () => {
    const policy = { ...DEFAULT_POLICY, resetTimeoutMultiplier: 2, maxResetTimeoutMs: 200_000 };
    const b = opened(policy);
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      b.tick((b.state.openUntil ?? 0) - b.now);
      b.run(fail());
      waits.push((b.state.openUntil ?? 0) - b.now);
    }
    expect(waits).toEqual([120_000, 200_000, 200_000, 200_000]);
    b.tick(200_000);
    b.run(ok);
    expect(b.state.status).toBe("closed");
    for (let i = 0; i < 5; i++) b.run(fail());
    expect((b.state.openUntil ?? 0) - b.now).toBe(60_000);
  });
});

describe("half-open", () => {
  it("admits exactly half_open_max_probes at once", () => {
    const b = opened({ ...DEFAULT_POLICY, halfOpenMaxProbes: 2 });
    b.tick(60_000);
    const decisions = [b.acquire(), b.acquire(), b.acquire(), b.acquire()];
    expect(decisions.map((d) => d.admitted)).toEqual([true, true, false, false]);
    expect(b.state.probesInFlight).toHaveLength(2);
    const refused = decisions[2];
    expect(refused?.admitted === false && refused.retryAt).toBe(b.now + 30_000);
  });

  it("closes after success_threshold probe successes", () => {
    const b = opened({ ...DEFAULT_POLICY, successThreshold: 2 });
    b.tick(60_000);
    b.run(ok);
    expect(b.state.status).toBe("half-open");
    b.run(ok);
    expect(b.state.status).toBe("closed");
    expect(b.state.history.at(-1)?.reason).toBe("2 probe(s) succeeded");
  });

  it("re-opens on any probe failure", () => {
    const b = opened({ ...DEFAULT_POLICY, successThreshold: 3, halfOpenMaxProbes: 3 });
    b.tick(60_000);
    const [p1, p2, p3] = [b.permit(), b.permit(), b.permit()];
    b.report(p1, ok);
    b.report(p2, fail(2));
    expect(b.state.status).toBe("open");
    expect(b.state.history.at(-1)?.reason).toBe("probe failed: step deploy exited 2");
    // The third probe's report belongs to a past generation: counted, but changes nothing.
    expect(b.report(p3, ok)).toBe("stale");
    expect(b.state.status).toBe("open");
  });

  it("frees the slot of a probe that never reports, counting it as a failure", () => {
    const b = opened();
    b.tick(60_000);
    const dead = b.permit();
    expect(dead.expiresAt).toBe(b.now + 30_000);
    b.tick(29_999);
    expect(b.acquire().admitted).toBe(false);
    b.tick(1);
    expect(advance(b.state, b.policy, b.now).status).toBe("open");
    const d = b.acquire();
    expect(d.admitted).toBe(false);
    expect(b.state.counters.expiredProbes).toBe(1);
    expect(b.state.lastError?.message).toBe(`probe ${dead.id} did not report by its deadline`);
    // Once the re-open time passes, a new probe gets the slot.
    b.tick(60_000);
    expect(b.acquire().admitted).toBe(true);
    // The dead probe's late report is recognised and counted once, as late.
    expect(b.report(dead, ok)).toBe("late");
    expect(b.state.counters.lateReports).toBe(1);
    expect(b.state.counters.successes).toBe(0);
  });

  it("does not take a slow but healthy probe for dead within its expected duration", () => {
    const b = opened();
    b.tick(60_000);
    const slow = (() => {
      const d = b.acquire(600_000);
      if (!d.admitted) throw new Error("refused");
      return d.permit;
    })();
    expect(slow.expiresAt).toBe(b.now + 600_000 + 30_000);
    b.tick(500_000);
    expect(b.acquire().admitted).toBe(false); // its slot is still held
    expect(b.state.status).toBe("half-open");
    b.report(slow, { ok: true, durationMs: 500_000 });
    expect(b.state.status).toBe("closed");
  });

  it("frees a slot when a probe is cancelled because of a caller error", () => {
    const b = opened();
    b.tick(60_000);
    const p = b.permit();
    b.state = cancel(b.state, b.policy, b.now, p);
    expect(b.state.status).toBe("half-open");
    expect(b.state.counters.cancelled).toBe(1);
    expect(b.acquire().admitted).toBe(true);
  });
});

describe("manual control", () => {
  it("trip forces open until reset, and reset closes with fresh counts", () => {
    const b = new Harness();
    b.run(fail());
    b.state = trip(b.state, b.policy, b.now, null);
    b.tick(10 * 24 * 3600_000);
    expect(b.acquire()).toEqual({ admitted: false, reason: "was tripped by hand (forced open)", retryAt: null });
    b.state = reset(b.state, b.policy, b.now);
    expect(b.state.status).toBe("closed");
    expect(b.state.consecutiveFailures).toBe(0);
    expect(b.state.counters.failures).toBe(1);
    expect(b.acquire().admitted).toBe(true);
  });

  it("a timed trip ends in half-open, so the first call after it is a probe", () => {
    const b = new Harness();
    b.state = trip(b.state, b.policy, b.now, 120_000);
    b.tick(119_999);
    const d = b.acquire();
    expect(d.admitted === false && d.retryAt).toBe(T0 + 120_000);
    b.tick(1);
    const probe = b.acquire();
    expect(probe.admitted && probe.permit.probe).toBe(true);
  });

  it("disabled lets every call through and still counts outcomes", () => {
    const b = new Harness();
    b.state = disable(b.state, b.policy, b.now);
    for (let i = 0; i < 50; i++) b.run(fail());
    expect(b.state.status).toBe("disabled");
    expect(b.state.counters.failures).toBe(50);
    expect(b.state.counters.admitted).toBe(50);
  });
});

describe("history", () => {
  it("keeps the last history_size transitions with time and reason", () => {
    const b = new Harness({ ...DEFAULT_POLICY, historySize: 3, trip: { kind: "consecutive", threshold: 1 } });
    for (let i = 0; i < 5; i++) {
      b.run(fail());
      b.tick(60_000);
      b.run(ok);
    }
    expect(b.state.history).toHaveLength(3);
    expect(b.state.history.map((t) => `${t.from}>${t.to}`)).toEqual([
      "closed>open",
      "open>half-open",
      "half-open>closed",
    ]);
    expect(b.state.history.at(-1)?.at).toBe(b.now);
    expect(b.state.counters.stateChanges).toBe(15);
  });
});

describe("clock jumps", () => {
  it("a clock that jumps backwards does not stretch an open wait past its length", () => {
    const b = opened();
    b.tick(-3600_000); // an hour back
    const d = b.acquire();
    expect(d.admitted === false && d.retryAt).toBe(b.now + 60_000);
    b.tick(60_000);
    expect(b.acquire().admitted).toBe(true);
  });

  it("a clock that jumps forwards ends the wait and takes dead probes for dead, re-opening from their deadline", () => {
    const b = opened();
    b.tick(24 * 3600_000);
    b.permit();
    b.tick(24 * 3600_000);
    // The dead probe's re-open ran its course long ago: the next call is a probe again.
    const d = b.acquire();
    expect(d.admitted && d.permit.probe).toBe(true);
    expect(b.state.counters.expiredProbes).toBe(1);
  });

  it("a clock that jumps backwards does not stretch a probe's deadline", () => {
    const b = opened().tick(60_000);
    b.tick(10_000); // the probe is issued 10 s after half-open began
    const probe = b.permit();
    expect(probe.expiresAt).toBe(b.now + 30_000);
    b.tick(-5_000); // back, but not before half-open began
    b.acquire(); // refused: the slot is taken
    b.tick(30_000); // the full 30 s from where the clock now stands
    const d = b.acquire();
    expect(b.state.counters.expiredProbes).toBe(1);
    expect(d.admitted).toBe(false);
    expect(b.state.status).toBe("open");
  });
});

describe("settled semantics", () => {
  it("a dead probe noticed long after its deadline re-opens from the deadline, not from the notice", () => {
    const b = opened().tick(60_000);
    const probe = b.permit();
    const deadline = probe.expiresAt ?? 0;
    b.tick(30_000 + 50_000); // noticed 50 s after the deadline; the open time is 60 s
    const d = b.acquire();
    expect(d.admitted).toBe(false);
    expect(b.state.status).toBe("open");
    expect(b.state.openUntil).toBe(deadline + 60_000);
    expect(b.state.history.at(-1)).toMatchObject({ at: deadline, from: "half-open", to: "open" });
    b.tick(10_000);
    expect(b.acquire().admitted).toBe(true);
  });

  it("a permit recorded twice counts once, and the second report says so", () => {
    const b = new Harness();
    const p = b.permit();
    expect(b.report(p, fail())).toBe("counted");
    const before = JSON.stringify(b.state);
    expect(b.report(p, fail())).toBe("duplicate");
    expect(JSON.stringify(b.state)).toBe(before);
    expect(b.state.consecutiveFailures).toBe(1);
    expect(b.state.counters.failures).toBe(1);
  });

  it("a probe recorded twice closes once and its duplicate failure does not re-open", () => {
    const b = opened().tick(60_000);
    const p = b.permit();
    expect(b.report(p, ok)).toBe("counted");
    expect(b.state.status).toBe("closed");
    expect(b.report(p, fail())).toBe("duplicate");
    expect(b.state.status).toBe("closed");
    expect(b.state.counters.failures).toBe(5);
  });

  it("a cancelled permit reported afterwards changes nothing", () => {
    const b = new Harness();
    const p = b.permit();
    b.state = cancel(b.state, b.policy, b.now, p);
    expect(b.report(p, fail())).toBe("duplicate");
    expect(b.state.counters.failures).toBe(0);
  });

  it("a recorded permit cancelled afterwards changes nothing", () => {
    const b = new Harness();
    const p = b.permit();
    b.report(p, fail());
    b.state = cancel(b.state, b.policy, b.now, p);
    expect(b.state.counters.cancelled).toBe(0);
  });

  it("the failure rate is checked after every outcome: a success that brings the window to minimum_calls opens", () => {
    const b = new Harness({ ...DEFAULT_POLICY, trip: { kind: "failure-rate", rate: 0.5, windowSize: 10, minimumCalls: 5 } });
    for (let i = 0; i < 4; i++) b.run(fail());
    expect(b.state.status).toBe("closed");
    b.run(ok); // 4 of 5 failed: 80% >= 50%
    expect(b.state.status).toBe("open");
    expect(b.state.history.at(-1)?.reason).toContain("failure rate 80% over the last 5 calls reached 50% (last: step deploy exited 1)");
  });

  it("a failure that carries Retry-After opens for that long, capped at max_reset_timeout, and says so", () => {
    const b = new Harness({ ...DEFAULT_POLICY, trip: { kind: "consecutive", threshold: 1 }, maxResetTimeoutMs: 300_000 });
    b.run({ ...fail(), retryAfter: { ms: 120_000, source: "Retry-After: 120 in the output of step push" } });
    expect(b.state.openUntil).toBe(T0 + 120_000);
    expect(b.state.openTimeSource).toBe("Retry-After: 120 in the output of step push");
    b.tick(120_000);
    b.report(b.permit(), { ...fail(), retryAfter: { ms: 3_600_000, source: "Retry-After: 3600 in the output of step push" } });
    expect(b.state.openUntil).toBe(b.now + 300_000);
    expect(b.state.openTimeSource).toBe("Retry-After: 3600 in the output of step push, capped at max_reset_timeout (300 s)");
    b.tick(300_000);
    b.report(b.permit(), ok);
    expect(b.state.openTimeSource).toBeNull();
  });

  it("a failure that does not open the breaker leaves its Retry-After unused", () => {
    const b = new Harness();
    b.run({ ...fail(), retryAfter: { ms: 120_000, source: "Retry-After: 120" } });
    expect(b.state.status).toBe("closed");
    for (let i = 0; i < 4; i++) b.run(fail());
    expect(b.state.openUntil).toBe(T0 + 60_000);
    expect(b.state.openTimeSource).toBeNull();
  });

  it("a failure the caller classified as neutral frees a probe slot and neither closes nor re-opens", () => {
    const b = opened().tick(60_000);
    const p = b.permit();
    expect(b.report(p, { ...fail(), classified: { counts: false, rule: 'steps.test: guarded: false' } })).toBe("ignored");
    expect(b.state.status).toBe("half-open");
    expect(b.state.probesInFlight).toHaveLength(0);
    expect(b.state.lastIgnored).toMatchObject({ rule: "steps.test: guarded: false", exitCode: 1 });
    expect(b.acquire().admitted).toBe(true);
  });

  it("a caller's classification wins over ignored_exit_codes, and the rule is kept with the last error", () => {
    const b = new Harness({ ...DEFAULT_POLICY, ignoredExitCodes: [75] });
    b.run({ ...fail(75), classified: { counts: true, rule: "failure_rules[0]" } });
    expect(b.state.counters.failures).toBe(1);
    expect(b.state.lastError?.rule).toBe("failure_rules[0]");
    b.run(fail(75));
    expect(b.state.counters.ignored).toBe(1);
    expect(b.state.lastIgnored?.rule).toBe("ignored_exit_codes");
  });
});

describe("purity", () => {
  it("never mutates the state it is given", () => {
    const b = opened();
    const frozen = JSON.stringify(b.state);
    acquire(b.state, b.policy, b.now + 60_000, "x");
    record(b.state, b.policy, b.now, { id: "y", breaker: "deploy", generation: 0, probe: false, issuedAt: T0, expiresAt: null }, ok);
    reset(b.state, b.policy, b.now);
    expect(JSON.stringify(b.state)).toBe(frozen);
  });
});
