import { describe, expect, it } from "vitest";
import { backoffDelayMs, seededRandom } from "../../lib/workflow/backoff.js";

// The ends of the spread: random() is in [0, 1), so 0 gives the lowest delay and a value just
// below 1 the highest. Together they pin that the delay really spreads by ±jitter around the
// doubling base, not just that it stays somewhere inside the band.
const JUST_BELOW_ONE = 0.999999;
const factors = [1000, 250];
const jitters = [0, 0.1, 0.25, 0.5, 1];
const retries = [1, 2, 3, 4, 5];

function cases() {
  return factors.flatMap((backoffFactorMs) =>
    jitters.flatMap((jitter) => retries.map((retry) => ({ backoffFactorMs, jitter, retry, base: backoffFactorMs * 2 ** (retry - 1) }))),
  );
}

describe("backoffDelayMs", () => {
  it("gives exactly base * (1 - jitter) when random() is 0", () => {
    for (const { backoffFactorMs, jitter, retry, base } of cases()) {
      expect(backoffDelayMs({ backoffFactorMs, jitter }, retry, () => 0), `factor ${backoffFactorMs}, jitter ${jitter}, retry ${retry}`).toBe(
        Math.round(base * (1 - jitter)),
      );
    }
  });

  it("gives base * (1 + jitter), to within a millisecond, when random() is just below 1", () => {
    for (const { backoffFactorMs, jitter, retry, base } of cases()) {
      const delay = backoffDelayMs({ backoffFactorMs, jitter }, retry, () => JUST_BELOW_ONE);
      const what = `factor ${backoffFactorMs}, jitter ${jitter}, retry ${retry}: ${delay}`;
      expect(Math.abs(delay - base * (1 + jitter)), what).toBeLessThan(1);
      expect(delay, what).toBeLessThanOrEqual(Math.ceil(base * (1 + jitter)));
    }
  });

  it("gives exactly the base when random() is 0.5", () => {
    for (const { backoffFactorMs, jitter, retry, base } of cases()) {
      expect(backoffDelayMs({ backoffFactorMs, jitter }, retry, () => 0.5), `factor ${backoffFactorMs}, jitter ${jitter}, retry ${retry}`).toBe(base);
    }
  });

  it("spreads a seeded run of delays over both sides of the base, within ±jitter", () => {
    const policy = { backoffFactorMs: 1000, jitter: 0.5 };
    const random = seededRandom(1234);
    const delays = Array.from({ length: 200 }, () => backoffDelayMs(policy, 1, random));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...delays)).toBeLessThanOrEqual(1500);
    // 200 draws of a uniform spread reach well into both halves of the band.
    expect(delays.filter((d) => d < 750).length).toBeGreaterThan(20);
    expect(delays.filter((d) => d > 1250).length).toBeGreaterThan(20);
  });
});
