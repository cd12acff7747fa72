import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addCounts, belowAt, BUCKETS_PER_WINDOW, bucketWidthMs, shiftForClock, total, type Bucket } from "../../lib/core/time-buckets.js";

const SEED = 20261204;

type Op = { kind: "tick"; ms: number } | { kind: "add"; n: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: -30_000, max: 200_000 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: -2_000, max: 5_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: -86_400_000, max: 86_400_000 }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("add" as const), n: fc.integer({ min: 1, max: 5 }) }) },
);

describe("time buckets", () => {
  it("count each addition for at least the window and less than a window plus a bucket, whatever the clock does", () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 1_000, max: 20_000 }), fc.integer({ min: 1_000, max: 3_600_000 })), fc.array(op, { minLength: 1, maxLength: 300 }), (windowMs, ops) => {
        const width = bucketWidthMs(windowMs);
        let now = 1_700_000_000_000;
        let clockAt = now;
        // The model's clock only moves forward: a clock that goes back makes nothing younger or older.
        let age = 0;
        const added: { at: number; n: number }[] = [];
        let buckets: Bucket<"calls">[] = [];
        for (const o of ops) {
          if (o.kind === "tick") {
            now += o.ms;
            age += Math.max(0, o.ms);
          }
          shiftForClock(buckets, clockAt, now);
          clockAt = now;
          if (o.kind === "add") {
            buckets = addCounts(buckets, windowMs, now, { calls: o.n });
            added.push({ at: age, n: o.n });
          }
          const counted = total(buckets, windowMs, now, "calls");
          const mustCount = added.filter((a) => age - a.at < windowMs).reduce((s, a) => s + a.n, 0);
          const mayCount = added.filter((a) => age - a.at < windowMs + width).reduce((s, a) => s + a.n, 0);
          expect(counted).toBeGreaterThanOrEqual(mustCount);
          expect(counted).toBeLessThanOrEqual(mayCount);
          expect(buckets.length).toBeLessThanOrEqual(BUCKETS_PER_WINDOW + 2);
          // Looking ahead without writing: the last millisecond each addition must still count.
          for (const a of added) {
            const ahead = windowMs - 1 - (age - a.at);
            if (ahead < 0) continue;
            const due = added.filter((b) => age + ahead - b.at < windowMs).reduce((s, b) => s + b.n, 0);
            expect(total(buckets, windowMs, now + ahead, "calls")).toBeGreaterThanOrEqual(due);
          }
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it("use one-second buckets up to a minute, and a sixtieth of the window beyond", () => {
    expect(bucketWidthMs(10_000)).toBe(1000);
    expect(bucketWidthMs(60_000)).toBe(1000);
    expect(bucketWidthMs(600_000)).toBe(10_000);
    expect(bucketWidthMs(3_600_000)).toBe(60_000);
  });

  it("say when the total drops below a limit: when enough of the oldest buckets have left", () => {
    const windowMs = 60_000;
    let buckets: Bucket<"calls">[] = [];
    buckets = addCounts(buckets, windowMs, 0, { calls: 2 });
    buckets = addCounts(buckets, windowMs, 10_000, { calls: 1 });
    expect(belowAt(buckets, windowMs, 20_000, "calls", 4)).toBe(20_000);
    // 3 in the window, limit 3: the bucket started at 0 leaves at 0 + 1 s + 60 s.
    expect(belowAt(buckets, windowMs, 20_000, "calls", 3)).toBe(61_000);
    expect(belowAt(buckets, windowMs, 20_000, "calls", 1)).toBe(71_000);
    expect(total(buckets, windowMs, 60_999, "calls")).toBe(3);
    expect(total(buckets, windowMs, 61_000, "calls")).toBe(1);
  });

  it("stay at most 62 buckets under a call every millisecond", () => {
    let buckets: Bucket<"calls">[] = [];
    for (let now = 0; now < 200_000; now += 1) buckets = addCounts(buckets, 60_000, now, { calls: 1 });
    expect(buckets.length).toBeLessThanOrEqual(BUCKETS_PER_WINDOW + 2);
    expect(total(buckets, 60_000, 199_999, "calls")).toBeGreaterThanOrEqual(60_000);
  });
});
