import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY, type BreakerPolicy } from "../../lib/core/policy.js";
import { parseState, serializeState } from "../../lib/core/serialize.js";
import { initialState, type BreakerState, type Permit } from "../../lib/core/state.js";
import { acquire, cancel, disable, record, reset, spendRetry, trip } from "../../lib/core/transitions.js";
import { BUCKETS_PER_WINDOW, bucketWidthMs } from "../../lib/core/time-buckets.js";

const SEED = 20261128;

type Command =
  | { kind: "tick"; ms: number }
  | { kind: "acquire"; expected: number }
  | { kind: "report"; pick: number; ok: boolean; exitCode: number; durationMs: number }
  | { kind: "cancel"; pick: number }
  | { kind: "reset" }
  | { kind: "trip"; durationMs: number | null }
  | { kind: "disable" }
  | { kind: "retry" };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: -5_000, max: 90_000 }) }) },
  { weight: 12, arbitrary: fc.record({ kind: fc.constant("acquire" as const), expected: fc.integer({ min: 0, max: 60_000 }) }) },
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant("report" as const),
      pick: fc.nat(),
      ok: fc.boolean(),
      exitCode: fc.constantFrom(1, 2, 75),
      durationMs: fc.integer({ min: 0, max: 5_000 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("cancel" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("reset" as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("trip" as const), durationMs: fc.option(fc.integer({ min: 0, max: 120_000 })) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("disable" as const) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("retry" as const) }) },
);

const policy: fc.Arbitrary<BreakerPolicy> = fc.record({
  trip: fc.oneof(
    fc.record({ kind: fc.constant("consecutive" as const), threshold: fc.integer({ min: 1, max: 6 }) }),
    fc
      .record({
        kind: fc.constant("failure-rate" as const),
        rate: fc.double({ min: 0.1, max: 1, noNaN: true }),
        windowSize: fc.integer({ min: 1, max: 12 }),
        minimumCalls: fc.integer({ min: 1, max: 12 }),
      })
      .map((t) => ({ ...t, minimumCalls: Math.min(t.minimumCalls, t.windowSize) })),
    fc.record({
      kind: fc.constant("time-failure-rate" as const),
      rate: fc.double({ min: 0.1, max: 1, noNaN: true }),
      windowMs: fc.integer({ min: 1_000, max: 600_000 }),
      minimumCalls: fc.integer({ min: 1, max: 12 }),
    }),
    fc.record({
      kind: fc.constant("failures-in-time" as const),
      threshold: fc.integer({ min: 1, max: 6 }),
      windowMs: fc.integer({ min: 1_000, max: 600_000 }),
    }),
  ),
  resetTimeoutMs: fc.integer({ min: 0, max: 60_000 }),
  resetTimeoutMultiplier: fc.constantFrom(1, 1.5, 2),
  maxResetTimeoutMs: fc.integer({ min: 0, max: 300_000 }),
  halfOpenTimeoutMs: fc.integer({ min: 1, max: 60_000 }),
  halfOpenMaxProbes: fc.integer({ min: 1, max: 3 }),
  successThreshold: fc.integer({ min: 1, max: 3 }),
  slowCallThresholdMs: fc.option(fc.integer({ min: 0, max: 5_000 })),
  ignoredExitCodes: fc.constantFrom([], [75]),
  historySize: fc.integer({ min: 1, max: 10 }),
  maxConcurrentCalls: fc.option(fc.integer({ min: 1, max: 3 })),
  mode: fc.constantFrom("enforce" as const, "observe" as const),
  resetTimeoutJitter: fc.constantFrom(0, 0.25),
  rateLimit: fc.option(fc.record({ calls: fc.integer({ min: 1, max: 5 }), periodMs: fc.integer({ min: 1_000, max: 300_000 }) })),
  retryBudget: fc.option(
    fc.record({
      ratio: fc.constantFrom(0, 0.2, 0.5, 1),
      minPerMinute: fc.constantFrom(0, 1, 3),
      windowMs: fc.integer({ min: 1_000, max: 300_000 }),
    }),
  ),
});

interface Run {
  state: BreakerState;
  now: number;
  /**
   * A clock that only moves forward, as the buckets see time: it advances when an operation that
   * reads the clock finds it later than the last one did, and a clock read earlier adds no age.
   */
  age: number;
  clockSeen: number;
  /** When (on `age`) calls were admitted and retries allowed, for checking the limits. */
  admittedAt: number[];
  retriedAt: number[];
  outstanding: Permit[];
  /** Outcomes and cancellations handed back to the breaker. */
  reports: number;
}

function newRun(): Run {
  return { state: initialState("prop", 1_000_000), now: 1_000_000, age: 0, clockSeen: 1_000_000, admittedAt: [], retriedAt: [], outstanding: [], reports: 0 };
}

const within = (times: number[], age: number, spanMs: number) => times.filter((t) => age - t < spanMs).length;

/** Applies one command, checking the invariants that must hold at that step. */
function step(run: Run, cmd: Command, p: BreakerPolicy, id: number): void {
  const reports = (cmd.kind === "report" || cmd.kind === "cancel") && run.outstanding.length > 0;
  if (cmd.kind === "acquire" || cmd.kind === "retry" || reports) {
    run.age += Math.max(0, run.now - run.clockSeen);
    run.clockSeen = run.now;
  }
  switch (cmd.kind) {
    case "tick":
      run.now += cmd.ms;
      return;
    case "retry": {
      const r = spendRetry(run.state, p, run.now);
      run.state = r.state;
      if (r.retry.allowed) run.retriedAt.push(run.age);
      return;
    }
    case "acquire": {
      const before = run.state;
      const r = acquire(run.state, p, run.now, `p${id}`, { expectedDurationMs: cmd.expected });
      // Observe mode admits what enforce mode refuses, and says so.
      const refused = (d: typeof r.decision) => !d.admitted || d.wouldHaveRejected !== undefined;
      // A clock that went back shortens a wait to at most its full length from now, never lengthens it.
      if (before.status === "open" && before.openUntil !== null && Math.min(before.openUntil - run.now, before.openUntil - before.since) > 0) {
        expect(refused(r.decision), "open admitted a call before its time").toBe(true);
      }
      if (before.status === "forced-open" && (before.forcedUntil === null || run.now < before.forcedUntil)) {
        expect(refused(r.decision), "forced-open admitted a call").toBe(true);
      }
      expect(r.decision.admitted || p.mode === "enforce", "observe mode refused a call").toBe(true);
      run.state = r.state;
      if (r.decision.admitted) {
        run.outstanding.push(r.decision.permit);
        run.admittedAt.push(run.age);
      }
      return;
    }
    case "report":
    case "cancel": {
      if (run.outstanding.length === 0) return;
      const [permit] = run.outstanding.splice(cmd.pick % run.outstanding.length, 1);
      if (!permit) return;
      run.reports += 1;
      if (cmd.kind === "cancel") {
        run.state = cancel(run.state, p, run.now, permit);
      } else {
        const outcome = { ok: cmd.ok, durationMs: cmd.durationMs, exitCode: cmd.ok ? null : cmd.exitCode };
        run.state = record(run.state, p, run.now, permit, outcome).state;
      }
      return;
    }
    case "reset":
      run.state = reset(run.state, p, run.now);
      return;
    case "trip":
      run.state = trip(run.state, p, run.now, cmd.durationMs);
      return;
    case "disable":
      run.state = disable(run.state, p, run.now);
  }
}

describe("breaker invariants over random event sequences", () => {
  it("never has more probes in flight or calls holding slots than permitted, and open never admits early", () => {
    fc.assert(
      fc.property(policy, fc.array(command, { minLength: 20, maxLength: 150, size: "max" }), (p, cmds) => {
        const run: Run = newRun();
        cmds.forEach((cmd, i) => {
          step(run, cmd, p, i);
          expect(run.state.probesInFlight.length).toBeLessThanOrEqual(p.halfOpenMaxProbes);
          expect(run.state.leases.length).toBeLessThanOrEqual(p.maxConcurrentCalls ?? 0);
          for (const lease of run.state.leases) expect(run.outstanding.map((o) => o.id)).toContain(lease.id);
          if (run.state.status !== "half-open") expect(run.state.probesInFlight).toHaveLength(0);
        });
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it("never admits more than the rate limit in any period, never allows more retries than the budget, and keeps state bounded", () => {
    fc.assert(
      fc.property(policy, fc.array(command, { minLength: 20, maxLength: 200, size: "max" }), (p, cmds) => {
        const run = newRun();
        cmds.forEach((cmd, i) => {
          step(run, cmd, p, i);
          const rate = p.rateLimit;
          if (rate !== null && p.mode === "enforce") {
            expect(within(run.admittedAt, run.age, rate.periodMs), "admitted over the rate limit").toBeLessThanOrEqual(rate.calls);
          }
          const budget = p.retryBudget;
          // Checked when a retry is allowed: first attempts leaving the window later do not take back a retry already made.
          if (budget !== null && cmd.kind === "retry" && run.retriedAt.at(-1) === run.age) {
            // The budget's first attempts may be counted up to one bucket longer than its window, never its retries shorter.
            const firsts = within(run.admittedAt, run.age, budget.windowMs + bucketWidthMs(budget.windowMs));
            const allowance = Math.floor(budget.ratio * firsts + (budget.minPerMinute * budget.windowMs) / 60_000);
            expect(within(run.retriedAt, run.age, budget.windowMs), "retried over the budget").toBeLessThanOrEqual(allowance);
          }
          for (const buckets of [run.state.outcomeBuckets, run.state.admissionBuckets, run.state.retryBuckets]) {
            expect(buckets.length).toBeLessThanOrEqual(BUCKETS_PER_WINDOW + 2);
          }
          if (p.trip.kind !== "failure-rate") expect(run.state.window).toHaveLength(0);
        });
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it("accounts for every admitted call exactly once", () => {
    fc.assert(
      fc.property(policy, fc.array(command, { minLength: 20, maxLength: 150, size: "max" }), (p, cmds) => {
        const run: Run = newRun();
        cmds.forEach((cmd, i) => step(run, cmd, p, i));
        // Every call still out reports now, some of them after their probe was taken for dead.
        for (const permit of run.outstanding) {
          run.state = record(run.state, p, run.now, permit, { ok: true, durationMs: 1 }).state;
          run.reports += 1;
        }
        const c = run.state.counters;
        expect(c.admitted).toBe(c.successes + c.failures + c.ignored + c.cancelled + c.expiredProbes);
        expect(run.reports).toBe(c.successes + c.failures + c.ignored + c.cancelled + c.lateReports);
        expect(c.stateChanges).toBeGreaterThanOrEqual(run.state.history.length);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it("a state serialised and parsed back behaves identically", () => {
    fc.assert(
      fc.property(policy, fc.array(command, { minLength: 20, maxLength: 100, size: "max" }), (p, cmds) => {
        const direct: Run = newRun();
        const stored: Run = newRun();
        cmds.forEach((cmd, i) => {
          step(direct, cmd, p, i);
          stored.state = parseState(serializeState(stored.state), "prop");
          step(stored, cmd, p, i);
          expect(stored.state).toEqual(direct.state);
        });
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});
