import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../lib/core/policy.js";
import { pruneVerdict } from "../../lib/core/prune.js";
import { initialState, type BreakerState, type Permit } from "../../lib/core/state.js";
import { acquire, disable, record, trip } from "../../lib/core/transitions.js";

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const DAY = 86_400_000;
const UNUSED_FOR = 30 * DAY;
/** When the prune runs: 40 days after T0, so a breaker last used at T0 is old enough. */
const NOW = T0 + 40 * DAY;

const permit = (breaker: string, expiresAt: number | null): Permit => ({
  id: `p-${breaker}`,
  breaker,
  generation: 1,
  probe: true,
  issuedAt: T0,
  expiresAt,
});

describe("pruneVerdict", () => {
  it("removes a breaker last used longer ago than the given time", () => {
    expect(pruneVerdict(initialState("old", T0), NOW, UNUSED_FOR)).toEqual({ remove: true });
  });

  it("keeps one used within the given time, up to exactly that long ago", () => {
    const used = initialState("used", T0);
    expect(pruneVerdict(used, T0 + UNUSED_FOR, UNUSED_FOR)).toEqual({ remove: false, keep: { kind: "recently-used" } });
    expect(pruneVerdict(used, T0 + UNUSED_FOR + 1, UNUSED_FOR)).toEqual({ remove: true });
    expect(pruneVerdict(used, T0 + DAY, UNUSED_FOR)).toEqual({ remove: false, keep: { kind: "recently-used" } });
  });

  it("keeps one whose last use the clock puts in the future (a clock that went back)", () => {
    expect(pruneVerdict(initialState("ahead", NOW + DAY), NOW, UNUSED_FOR)).toEqual({ remove: false, keep: { kind: "recently-used" } });
  });

  it("judges the last use of any kind: a record or a rejected acquire counts as use", () => {
    const admitted = acquire(initialState("b", T0), DEFAULT_POLICY, T0, "p1");
    if (!admitted.decision.admitted) throw new Error("not admitted");
    const recorded = record(admitted.state, DEFAULT_POLICY, NOW - DAY, admitted.decision.permit, { ok: true, durationMs: 1 }).state;
    expect(pruneVerdict(recorded, NOW, UNUSED_FOR)).toEqual({ remove: false, keep: { kind: "recently-used" } });
    const tripped = trip(initialState("t", T0), DEFAULT_POLICY, T0, null);
    const refused = acquire(tripped, DEFAULT_POLICY, NOW - DAY, "p2");
    expect(refused.decision.admitted).toBe(false);
    expect(pruneVerdict(refused.state, NOW, UNUSED_FOR)).toEqual({ remove: false, keep: { kind: "recently-used" } });
  });

  it("keeps a breaker forced open by hand, however old, whether until reset or for a time that has ended", () => {
    const untilReset = trip(initialState("tripped", T0), DEFAULT_POLICY, T0, null);
    expect(pruneVerdict(untilReset, NOW, UNUSED_FOR)).toEqual({ remove: false, keep: { kind: "forced-open", until: null } });
    const forADay = trip(initialState("tripped", T0), DEFAULT_POLICY, T0, DAY);
    expect(pruneVerdict(forADay, NOW, UNUSED_FOR)).toEqual({ remove: false, keep: { kind: "forced-open", until: T0 + DAY } });
  });

  it("keeps a breaker disabled by hand", () => {
    expect(pruneVerdict(disable(initialState("off", T0), DEFAULT_POLICY, T0), NOW, UNUSED_FOR)).toEqual({
      remove: false,
      keep: { kind: "disabled" },
    });
  });

  it("keeps a breaker with probes in flight, saying since when a probe is overdue", () => {
    const probing: BreakerState = { ...initialState("probing", T0), status: "half-open", probesInFlight: [permit("probing", T0 + 30_000)] };
    expect(pruneVerdict(probing, NOW, UNUSED_FOR)).toEqual({
      remove: false,
      keep: { kind: "probes-in-flight", count: 1, overdueSince: T0 + 30_000 },
    });
    const onTime: BreakerState = { ...probing, probesInFlight: [permit("probing", NOW + 1)] };
    expect(pruneVerdict(onTime, NOW, UNUSED_FOR)).toEqual({ remove: false, keep: { kind: "probes-in-flight", count: 1, overdueSince: null } });
  });

  it("keeps a breaker whose calls hold concurrency slots", () => {
    const leased: BreakerState = { ...initialState("leased", T0), leases: [permit("leased", null)] };
    expect(pruneVerdict(leased, NOW, UNUSED_FOR)).toEqual({ remove: false, keep: { kind: "leases", count: 1, overdueSince: null } });
  });

  it("keeps an open breaker until its open time ends, then lets it go", () => {
    const open: BreakerState = { ...initialState("open", T0), status: "open", openUntil: NOW + 60_000 };
    expect(pruneVerdict(open, NOW, UNUSED_FOR)).toEqual({ remove: false, keep: { kind: "open", until: NOW + 60_000 } });
    expect(pruneVerdict({ ...open, openUntil: T0 + 60_000 }, NOW, UNUSED_FOR)).toEqual({ remove: true });
  });

  it("removes an old half-open breaker with no probe out, and an old closed one with failures counted", () => {
    expect(pruneVerdict({ ...initialState("h", T0), status: "half-open" }, NOW, UNUSED_FOR)).toEqual({ remove: true });
    expect(pruneVerdict({ ...initialState("c", T0), consecutiveFailures: 4 }, NOW, UNUSED_FOR)).toEqual({ remove: true });
  });
});
