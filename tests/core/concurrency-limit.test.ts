import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY, type BreakerPolicy } from "../../lib/core/policy.js";
import { initialState, type BreakerState, type Permit } from "../../lib/core/state.js";
import { acquire, cancel, record, type Decision } from "../../lib/core/transitions.js";

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const ok = { ok: true, durationMs: 10 };
const fail = { ok: false, durationMs: 10, exitCode: 1, error: "deploy failed" };
const limited: BreakerPolicy = { ...DEFAULT_POLICY, maxConcurrentCalls: 2, halfOpenTimeoutMs: 30_000 };

class Harness {
  now = T0;
  state: BreakerState = initialState("staging", T0);
  private next = 0;
  constructor(readonly policy: BreakerPolicy = limited) {}
  acquire(expectedDurationMs = 60_000, waitedMs?: number): Decision {
    const r = acquire(this.state, this.policy, this.now, `p${this.next++}`, { expectedDurationMs, waitedMs });
    this.state = r.state;
    return r.decision;
  }
  permit(): Permit {
    const d = this.acquire();
    if (!d.admitted) throw new Error(`expected admission, got: ${d.reason}`);
    return d.permit;
  }
  report(permit: Permit, outcome: typeof ok | typeof fail) {
    const r = record(this.state, this.policy, this.now, permit, outcome);
    this.state = r.state;
    return r.effect;
  }
}

describe("max_concurrent_calls", () => {
  it("admits up to the limit, then refuses naming the slots taken and when the earliest lease ends", () => {
    const b = new Harness();
    b.permit();
    b.now += 5_000;
    b.permit();
    const refused = b.acquire();
    expect(refused).toMatchObject({
      admitted: false,
      limit: { inUse: 2, max: 2 },
      // The first lease: expected 60 s plus half_open_timeout 30 s from T0.
      retryAt: T0 + 90_000,
    });
    expect(refused.admitted ? "" : refused.reason).toContain("2 concurrency slot(s) taken");
  });

  it("counts a limit refusal apart from breaker rejections, and never as a failure", () => {
    const b = new Harness({ ...limited, maxConcurrentCalls: 1, trip: { kind: "consecutive", threshold: 1 } });
    b.permit();
    for (let i = 0; i < 10; i++) expect(b.acquire().admitted).toBe(false);
    expect(b.state.status).toBe("closed");
    expect(b.state.counters).toMatchObject({ limitRefusals: 10, rejections: 0, failures: 0, admitted: 1 });
  });

  it("frees the slot when its call reports, is cancelled, or reports late; a second report frees nothing more", () => {
    const b = new Harness();
    const first = b.permit();
    const second = b.permit();
    b.report(first, ok);
    expect(b.state.leases.map((l) => l.id)).toEqual([second.id]);
    const third = b.permit();
    b.state = cancel(b.state, b.policy, b.now, second);
    expect(b.state.leases.map((l) => l.id)).toEqual([third.id]);
    expect(b.report(first, ok)).toBe("duplicate");
    expect(b.state.leases.map((l) => l.id)).toEqual([third.id]);
  });

  it("gives a slot back at its lease deadline when its holder never reports (a killed runner)", () => {
    const b = new Harness();
    b.permit();
    b.permit();
    b.now = T0 + 90_000 - 1;
    expect(b.acquire().admitted).toBe(false);
    b.now = T0 + 90_000;
    const d = b.acquire();
    expect(d.admitted).toBe(true);
    expect(b.state.counters.expiredLeases).toBe(2);
    // The slot came back uncounted: a vanished holder says nothing about the dependency.
    expect(b.state.counters.failures).toBe(0);
  });

  it("counts a late report of an expired lease as the call's real outcome", () => {
    const b = new Harness({ ...limited, trip: { kind: "consecutive", threshold: 1 } });
    const held = b.permit();
    b.now = T0 + 200_000;
    expect(b.report(held, fail)).toBe("counted");
    expect(b.state.status).toBe("open");
  });

  it("holds leases across transitions: an open does not hand the running calls' slots to others", () => {
    const b = new Harness({ ...limited, trip: { kind: "consecutive", threshold: 1 } });
    const failing = b.permit();
    b.permit();
    b.report(failing, fail);
    expect(b.state.status).toBe("open");
    expect(b.state.leases).toHaveLength(1);
  });

  it("makes a half-open probe hold a slot too", () => {
    const b = new Harness({ ...limited, maxConcurrentCalls: 1, trip: { kind: "consecutive", threshold: 1 }, resetTimeoutMs: 1_000 });
    b.report(b.permit(), fail);
    b.now += 1_000;
    const probe = b.permit();
    expect(probe.probe).toBe(true);
    expect(b.state.leases.map((l) => l.id)).toEqual([probe.id]);
  });

  it("takes no slot and refuses nothing when the limit is off", () => {
    const b = new Harness(DEFAULT_POLICY);
    for (let i = 0; i < 50; i++) expect(b.acquire().admitted).toBe(true);
    expect(b.state.leases).toHaveLength(0);
  });

  it("counts waited calls and their total wait", () => {
    const b = new Harness();
    b.acquire(60_000, 1_500);
    b.acquire(60_000, 0);
    expect(b.state.counters).toMatchObject({ queuedCalls: 1, queueWaitMs: 1_500 });
  });
});
