import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CallOutcome } from "../../lib/core/outcome.js";
import { DEFAULT_POLICY, type BreakerPolicy } from "../../lib/core/policy.js";
import { serializeState } from "../../lib/core/serialize.js";
import { initialState, type BreakerState, type Permit } from "../../lib/core/state.js";
import { disable, trip } from "../../lib/core/transitions.js";
import type { PruneResult, StateResponse } from "../../lib/store/request.js";
import type { StateStore } from "../../lib/store/state-store.js";

/**
 * What every StateStore must do, whatever it keeps state in. A store runs this suite by
 * giving a factory for a fresh, empty store; the suite never looks inside the store except
 * through `corrupt`, which plants text as if something else had written it.
 */
export interface StoreUnderTest {
  store: StateStore;
  /** Sets the store's clock, for stores with a controllable clock; others are waited on. */
  setNow?: (ms: number) => void;
  close(): Promise<void>;
  /** Stores `text` as the breaker's state, bypassing the store's checks. */
  corrupt(breaker: string, text: string): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 15, 9, 0, 0);
const ok = { ok: true, durationMs: 5 };
const fail = { ok: false, durationMs: 5, exitCode: 1, error: "step deploy exited 1" };

function policy(overrides: Partial<BreakerPolicy> = {}): BreakerPolicy {
  return { ...DEFAULT_POLICY, ...overrides };
}

export function describeStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`StateStore contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: StateStore;
    let clock = T0;
    let nextId = 0;

    beforeEach(async () => {
      subject = await makeStore();
      store = subject.store;
      clock = T0;
      subject.setNow?.(clock);
    });
    afterEach(async () => {
      await subject.close();
    });

    /** Lets `ms` pass: on the store's clock when it has one, else for real. */
    async function later(ms: number): Promise<void> {
      if (subject.setNow) {
        clock += ms;
        subject.setNow(clock);
      } else {
        await new Promise((resolve) => setTimeout(resolve, ms));
      }
    }

    function acquire(breaker: string, p: BreakerPolicy = DEFAULT_POLICY): Promise<StateResponse> {
      return store.apply({ op: "acquire", breaker, policy: p, permitId: `permit-${nextId++}`, expectedDurationMs: 0 });
    }

    async function permit(breaker: string, p: BreakerPolicy = DEFAULT_POLICY): Promise<Permit> {
      const response = await acquire(breaker, p);
      const decision = response.decision;
      if (!decision?.admitted) throw new Error(`expected admission on ${breaker}, got ${JSON.stringify(decision)}`);
      return decision.permit;
    }

    function record(p: Permit, outcome: CallOutcome, pol: BreakerPolicy = DEFAULT_POLICY) {
      return store.apply({ op: "record", breaker: p.breaker, policy: pol, permit: p, outcome });
    }

    async function stateOf(breaker: string): Promise<BreakerState> {
      const response = await store.apply({ op: "read", breakers: [breaker] });
      expect(response.problems).toEqual([]);
      const state = response.states.find((s) => s.name === breaker);
      if (!state) throw new Error(`no state for ${breaker}`);
      return state;
    }

    describe("round trips", () => {
      it("acquire then record counts the outcome, and read returns it", async () => {
        const response = await acquire("deploy");
        expect(response.problems).toEqual([]);
        expect(response.decision).toMatchObject({ admitted: true, permit: { breaker: "deploy", probe: false } });
        expect(response.states.map((s) => s.name)).toEqual(["deploy"]);
        if (!response.decision?.admitted) throw new Error("not admitted");
        const recorded = await record(response.decision.permit, ok);
        expect(recorded.effect).toBe("counted");
        const state = await stateOf("deploy");
        expect(state.counters).toMatchObject({ admitted: 1, successes: 1, failures: 0 });
        expect(state.status).toBe("closed");
      });

      it("keeps the rate limit's and retry budget's buckets across requests: a retry op spends the budget, a full period refuses", async () => {
        const fleet = policy({ rateLimit: { calls: 1, periodMs: 3_600_000 }, retryBudget: { ratio: 0, minPerMinute: 1, windowMs: 60_000 } });
        expect((await acquire("registry", fleet)).decision?.admitted).toBe(true);
        expect((await acquire("registry", fleet)).decision).toMatchObject({ admitted: false, rateLimit: { used: 1, max: 1 } });
        expect((await store.apply({ op: "retry", breaker: "registry", policy: fleet })).retry).toMatchObject({ allowed: true, used: 1, allowance: 1 });
        expect((await store.apply({ op: "retry", breaker: "registry", policy: fleet })).retry).toMatchObject({ allowed: false });
        expect((await stateOf("registry")).counters).toMatchObject({ admitted: 1, rateLimitRefusals: 1, retries: 1, retryBudgetRefusals: 1 });
      });

      it("cancel gives the permit back uncounted", async () => {
        const p = await permit("deploy");
        const response = await store.apply({ op: "cancel", breaker: "deploy", policy: DEFAULT_POLICY, permit: p });
        expect(response.problems).toEqual([]);
        expect((await stateOf("deploy")).counters).toMatchObject({ admitted: 1, cancelled: 1, successes: 0, failures: 0 });
      });

      it("trip forces it open until reset; reset closes it", async () => {
        const tripped = await store.apply({ op: "trip", breaker: "deploy", policy: null, durationMs: null });
        expect(tripped.states[0]?.status).toBe("forced-open");
        const refused = await acquire("deploy");
        expect(refused.decision).toMatchObject({ admitted: false, retryAt: null });
        const reset = await store.apply({ op: "reset", breaker: "deploy", policy: null });
        expect(reset.states[0]?.status).toBe("closed");
        expect((await acquire("deploy")).decision?.admitted).toBe(true);
      });

      it("a timed trip refuses with the time it ends", async () => {
        const tripped = await store.apply({ op: "trip", breaker: "deploy", policy: null, durationMs: 60_000 });
        const refused = await acquire("deploy");
        expect(refused.decision).toMatchObject({ admitted: false, retryAt: tripped.now + 60_000 });
      });

      it("disable admits every call and keeps counting, without opening", async () => {
        await store.apply({ op: "disable", breaker: "deploy", policy: null });
        for (let i = 0; i < 8; i++) await record(await permit("deploy"), fail);
        const state = await stateOf("deploy");
        expect(state.status).toBe("disabled");
        expect(state.counters).toMatchObject({ admitted: 8, failures: 8 });
      });
    });

    describe("reads", () => {
      it("an unknown breaker reads as nothing, without a problem", async () => {
        expect(await store.apply({ op: "read", breakers: ["never-used"] })).toMatchObject({ states: [], problems: [] });
        expect(await store.apply({ op: "read", breakers: null })).toMatchObject({ states: [], problems: [] });
      });

      it("reads one breaker, or every breaker sorted by name", async () => {
        await acquire("zeta");
        await acquire("alpha");
        await acquire("mid.dle_1");
        const one = await store.apply({ op: "read", breakers: ["alpha"] });
        expect(one.states.map((s) => s.name)).toEqual(["alpha"]);
        const all = await store.apply({ op: "read", breakers: null });
        expect(all.states.map((s) => s.name)).toEqual(["alpha", "mid.dle_1", "zeta"]);
        expect(all.problems).toEqual([]);
        expect(typeof all.now).toBe("number");
      });
    });

    describe("opening", () => {
      it("five failures open it and a sixth acquire is refused with retryAt", async () => {
        for (let i = 0; i < 4; i++) await record(await permit("deploy"), fail);
        expect((await stateOf("deploy")).status).toBe("closed");
        const opened = await record(await permit("deploy"), fail);
        expect(opened.states[0]?.status).toBe("open");
        const refused = await acquire("deploy");
        const decision = refused.decision;
        if (!decision || decision.admitted) throw new Error(`expected a refusal, got ${JSON.stringify(decision)}`);
        expect(decision.reason).toBe("is open");
        expect(decision.retryAt).toBe(refused.states[0]?.openUntil);
        expect(decision.retryAt).toBe(opened.now + DEFAULT_POLICY.resetTimeoutMs);
        expect((await stateOf("deploy")).counters).toMatchObject({ failures: 5, rejections: 1, admitted: 5 });
      });

      it("concurrent acquires in half-open admit exactly halfOpenMaxProbes", async () => {
        const p = policy({ trip: { kind: "consecutive", threshold: 1 }, resetTimeoutMs: 100, halfOpenMaxProbes: 3 });
        await record(await permit("deploy", p), fail, p);
        expect((await stateOf("deploy")).status).toBe("open");
        await later(150);
        const answers = await Promise.all(Array.from({ length: 8 }, () => acquire("deploy", p)));
        const admitted = answers.filter((a) => a.decision?.admitted);
        expect(admitted).toHaveLength(3);
        expect(admitted.every((a) => a.decision?.admitted && a.decision.permit.probe)).toBe(true);
        const state = await stateOf("deploy");
        expect(state.status).toBe("half-open");
        expect(state.probesInFlight).toHaveLength(3);
        expect(state.counters).toMatchObject({ probes: 3, rejections: 5 });
      });

      it("concurrent acquires and records lose no update", async () => {
        const p = policy({ trip: { kind: "consecutive", threshold: 1000 } });
        const answers = await Promise.all(Array.from({ length: 50 }, () => acquire("deploy", p)));
        const permits = answers.map((a) => {
          if (!a.decision?.admitted) throw new Error("not admitted");
          return a.decision.permit;
        });
        await Promise.all(permits.map((pm, i) => record(pm, i % 2 === 0 ? ok : fail, p)));
        const state = await stateOf("deploy");
        expect(state.counters).toMatchObject({ admitted: 50, successes: 25, failures: 25 });
        expect(state.status).toBe("closed");
      });
    });

    describe("unreadable state", () => {
      const version99 = () => JSON.stringify({ ...JSON.parse(serializeState(initialState("deploy", T0))), version: 99 });

      for (const [what, text, says] of [
        ["corrupted", () => "{not json", "unreadable"],
        ["unknown-version", version99, "unknown version"],
      ] as const) {
        it(`${what} text is reported with the fix, never overwritten, and reset recovers`, async () => {
          await subject.corrupt("deploy", text());
          const before = await store.apply({ op: "read", breakers: ["deploy"] });
          expect(before.states).toEqual([]);
          expect(before.problems).toHaveLength(1);
          const problem = before.problems[0];
          expect(problem?.breaker).toBe("deploy");
          expect(problem?.message).toContain(says);
          expect(problem?.message).toContain("reset --breaker deploy");

          const refused = await acquire("deploy");
          expect(refused.decision).toBeUndefined();
          expect(refused.problems).toEqual(before.problems);
          const p: Permit = { id: "x", breaker: "deploy", generation: 0, probe: false, issuedAt: T0, expiresAt: null };
          for (const response of [
            await record(p, ok),
            await store.apply({ op: "cancel", breaker: "deploy", policy: DEFAULT_POLICY, permit: p }),
            await store.apply({ op: "trip", breaker: "deploy", policy: null, durationMs: null }),
            await store.apply({ op: "disable", breaker: "deploy", policy: null }),
          ]) {
            expect(response.problems).toEqual(before.problems);
          }
          // Still the same text: nothing above wrote over it.
          expect(await store.apply({ op: "read", breakers: ["deploy"] })).toMatchObject({ states: [], problems: before.problems });
          const all = await store.apply({ op: "read", breakers: null });
          expect(all.problems).toEqual(before.problems);

          const reset = await store.apply({ op: "reset", breaker: "deploy", policy: null });
          expect(reset.problems).toEqual([]);
          expect(reset.states[0]?.status).toBe("closed");
          expect((await acquire("deploy")).decision?.admitted).toBe(true);
          expect((await stateOf("deploy")).counters.admitted).toBe(1);
        });
      }

      it("a breaker's unreadable state does not hide the others", async () => {
        await acquire("healthy");
        await subject.corrupt("broken", "[]");
        const all = await store.apply({ op: "read", breakers: null });
        expect(all.states.map((s) => s.name)).toEqual(["healthy"]);
        expect(all.problems.map((p) => p.breaker)).toEqual(["broken"]);
      });
    });

    describe("settled semantics", () => {
      it("a permit recorded twice counts once; the second report says duplicate", async () => {
        const p = await permit("deploy");
        expect((await record(p, fail)).effect).toBe("counted");
        expect((await record(p, fail)).effect).toBe("duplicate");
        const state = await stateOf("deploy");
        expect(state.counters).toMatchObject({ admitted: 1, failures: 1 });
        expect(state.consecutiveFailures).toBe(1);
      });

      it("the failure rate is checked after a success too, once minimum_calls are in the window", async () => {
        const p = policy({ trip: { kind: "failure-rate", rate: 0.5, windowSize: 10, minimumCalls: 3 } });
        await record(await permit("deploy", p), fail, p);
        await record(await permit("deploy", p), fail, p);
        const opened = await record(await permit("deploy", p), ok, p);
        expect(opened.states[0]?.status).toBe("open");
      });

      it("a failure's Retry-After sets the open time, and its classification is kept", async () => {
        const p = policy({ trip: { kind: "consecutive", threshold: 1 } });
        const neutral = await record(await permit("deploy", p), { ...fail, classified: { counts: false, rule: "steps.test: guarded: false" } }, p);
        expect(neutral.effect).toBe("ignored");
        expect(neutral.states[0]?.lastIgnored?.rule).toBe("steps.test: guarded: false");
        const source = "Retry-After: 120 in the output of step push";
        const opened = await record(await permit("deploy", p), { ...fail, classified: { counts: true, rule: "failure_rules[0]" }, retryAfter: { ms: 120_000, source } }, p);
        expect(opened.states[0]).toMatchObject({ status: "open", openUntil: opened.now + 120_000, openTimeSource: source });
        expect(opened.states[0]?.lastError?.rule).toBe("failure_rules[0]");
      });

      it("a probe found dead re-opens from its deadline, not from when it was noticed", async () => {
        const p = policy({ trip: { kind: "consecutive", threshold: 1 }, resetTimeoutMs: 100, halfOpenTimeoutMs: 100, maxResetTimeoutMs: 100_000 });
        await record(await permit("deploy", p), fail, p);
        await later(150);
        const probe = await permit("deploy", p);
        expect(probe.probe).toBe(true);
        await later(300);
        await acquire("deploy", p);
        const state = await stateOf("deploy");
        const reopened = state.history.find((t) => t.from === "half-open" && t.to === "open");
        expect(reopened?.at).toBe(probe.expiresAt);
      });

      it("a clock that jumps backwards does not stretch a probe's deadline", async () => {
        // Only a store whose clock the suite sets can jump it back; the core suite pins the rest.
        if (!subject.setNow) return;
        const p = policy({ trip: { kind: "consecutive", threshold: 1 }, resetTimeoutMs: 1000, halfOpenTimeoutMs: 1000 });
        await record(await permit("deploy", p), fail, p);
        await later(1000);
        await later(500);
        await permit("deploy", p);
        await later(-300);
        await acquire("deploy", p); // refused (the slot is taken), and the store sees the clock go back
        await later(1000);
        const refused = await acquire("deploy", p);
        expect(refused.decision?.admitted).toBe(false);
        expect(refused.states[0]?.counters.expiredProbes).toBe(1);
      });
    });

    describe("prune", () => {
      const DAY = 86_400_000;
      const UNUSED_FOR = 30 * DAY;

      /** The store's clock now: Redis's and the state container's cannot be set, only read. */
      async function storeNow(): Promise<number> {
        return (await store.apply({ op: "read", breakers: [] })).now;
      }

      /** Stores `state` as if it had been written long ago, by an earlier request. */
      async function plant(state: BreakerState): Promise<void> {
        await subject.corrupt(state.name, serializeState(state));
      }

      async function prune(dryRun = false, unusedForMs = UNUSED_FOR): Promise<StateResponse & { prune: PruneResult }> {
        const response = await store.apply({ op: "prune", unusedForMs, dryRun });
        if (!response.prune) throw new Error(`a prune answered without a prune result: ${JSON.stringify(response)}`);
        return { ...response, prune: response.prune };
      }

      const names = (entries: { breaker: string }[]) => entries.map((e) => e.breaker);
      const allNames = async () => (await store.apply({ op: "read", breakers: null })).states.map((s) => s.name);

      it("removes only breakers unused for longer than the given time; a later read no longer has them", async () => {
        const old = (await storeNow()) - 40 * DAY;
        await plant(initialState("stale-a", old));
        await plant({ ...initialState("stale-b", old), consecutiveFailures: 3, updatedAt: old + DAY });
        await plant(initialState("recent-plant", (await storeNow()) - DAY));
        await acquire("fresh");

        const pruned = await prune();
        expect(pruned.problems).toEqual([]);
        expect(pruned.prune.dryRun).toBe(false);
        expect(names(pruned.prune.removed)).toEqual(["stale-a", "stale-b"]);
        expect(pruned.prune.removed[1]?.lastUsedAt).toBe(old + DAY);
        expect(pruned.prune.kept).toEqual([
          { breaker: "fresh", lastUsedAt: expect.any(Number), reason: { kind: "recently-used" } },
          { breaker: "recent-plant", lastUsedAt: expect.any(Number), reason: { kind: "recently-used" } },
        ]);

        expect(await allNames()).toEqual(["fresh", "recent-plant"]);
        expect(await store.apply({ op: "read", breakers: ["stale-a", "stale-b"] })).toMatchObject({ states: [], problems: [] });
        // A pruned breaker used again starts afresh.
        await acquire("stale-b");
        expect((await stateOf("stale-b")).consecutiveFailures).toBe(0);
        expect(names((await prune()).prune.removed)).toEqual([]);
      });

      it("keeps breakers tripped or disabled by hand, probing, or still open, however long unused", async () => {
        const now = await storeNow();
        const old = now - 40 * DAY;
        const probe: Permit = { id: "probe-1", breaker: "probing", generation: 1, probe: true, issuedAt: old, expiresAt: old + 30_000 };
        const planted = [
          trip(initialState("tripped", old), DEFAULT_POLICY, old, null),
          trip(initialState("tripped-for-a-day", old), DEFAULT_POLICY, old, DAY),
          disable(initialState("disabled", old), DEFAULT_POLICY, old),
          { ...initialState("probing", old), status: "half-open" as const, generation: 1, probesInFlight: [probe] },
          { ...initialState("open", old), status: "open" as const, generation: 1, openUntil: now + DAY },
        ];
        for (const state of planted) await plant(state);
        const before = await store.apply({ op: "read", breakers: null });

        const pruned = await prune();
        expect(pruned.prune.removed).toEqual([]);
        expect(Object.fromEntries(pruned.prune.kept.map((k) => [k.breaker, k.reason]))).toEqual({
          tripped: { kind: "forced-open", until: null },
          "tripped-for-a-day": { kind: "forced-open", until: old + DAY },
          disabled: { kind: "disabled" },
          probing: { kind: "probes-in-flight", count: 1, overdueSince: old + 30_000 },
          open: { kind: "open", until: now + DAY },
        });
        expect(pruned.prune.kept.every((k) => k.lastUsedAt === old)).toBe(true);
        // Left exactly as they were.
        expect((await store.apply({ op: "read", breakers: null })).states).toEqual(before.states);
      });

      it("a dry run removes nothing and says what it would remove", async () => {
        const old = (await storeNow()) - 40 * DAY;
        await plant(initialState("stale", old));
        await acquire("fresh");
        const dry = await prune(true);
        expect(dry.prune.dryRun).toBe(true);
        expect(names(dry.prune.removed)).toEqual(["stale"]);
        expect(names(dry.prune.kept)).toEqual(["fresh"]);
        expect(await allNames()).toEqual(["fresh", "stale"]);
        expect(names((await prune()).prune.removed)).toEqual(["stale"]);
        expect(await allNames()).toEqual(["fresh"]);
      });

      it("reports unreadable state as a problem and leaves it as it is", async () => {
        const old = (await storeNow()) - 40 * DAY;
        await plant(initialState("stale", old));
        await subject.corrupt("broken", "{not json");
        const pruned = await prune();
        expect(names(pruned.prune.removed)).toEqual(["stale"]);
        expect(pruned.problems.map((p) => p.breaker)).toEqual(["broken"]);
        expect(pruned.problems[0]?.message).toContain("reset --breaker broken");
        const after = await store.apply({ op: "read", breakers: null });
        expect(after.states).toEqual([]);
        expect(after.problems).toEqual(pruned.problems);
      });

      it("judges by the store's clock: unused for exactly the given time is kept, a moment longer is removed", async () => {
        if (!subject.setNow) return;
        await acquire("deploy");
        await later(UNUSED_FOR);
        expect(names((await prune()).prune.kept)).toEqual(["deploy"]);
        await later(1);
        expect(names((await prune()).prune.removed)).toEqual(["deploy"]);
        expect(await allNames()).toEqual([]);
      });
    });

    describe("policy", () => {
      it("each request's policy applies, and the last one is kept for requests without one", async () => {
        const lenient = policy({ trip: { kind: "consecutive", threshold: 5 } });
        const strict = policy({ trip: { kind: "consecutive", threshold: 3 }, resetTimeoutMs: 5000 });
        for (let i = 0; i < 3; i++) await record(await permit("deploy", lenient), fail, lenient);
        expect((await stateOf("deploy")).status).toBe("closed");
        const p = await permit("deploy", lenient);
        const opened = await record(p, fail, strict);
        expect(opened.states[0]?.status).toBe("open");
        expect(opened.states[0]?.openUntil).toBe(opened.now + 5000);
        expect((await stateOf("deploy")).policy).toEqual(strict);
        const reset = await store.apply({ op: "reset", breaker: "deploy", policy: null });
        expect(reset.states[0]?.policy).toEqual(strict);
      });
    });
  });
}
