import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../lib/core/duration.js";

describe("parseDuration", () => {
  it("reads a whole number and one unit: s, m, h or d", () => {
    expect(parseDuration("45s")).toBe(45_000);
    expect(parseDuration("90m")).toBe(5_400_000);
    expect(parseDuration("12h")).toBe(43_200_000);
    expect(parseDuration("30d")).toBe(2_592_000_000);
    expect(parseDuration("1s")).toBe(1000);
  });

  it("refuses anything else rather than guess", () => {
    for (const text of ["", "30", "d", "0d", "00d", "030d", "1.5h", "-1d", "+1d", " 30d", "30d ", "30 d", "30D", "30days", "1d12h", "2w", "1e3s", "99999999999999999d"]) {
      expect(parseDuration(text), JSON.stringify(text)).toBeNull();
    }
  });
});

describe("formatDuration", () => {
  it("gives the largest unit and the next one when not zero", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(45_000)).toBe("45s");
    expect(formatDuration(5_400_000)).toBe("1h 30m");
    expect(formatDuration(40 * 86_400_000 + 2 * 3_600_000 + 59_000)).toBe("40d 2h");
    expect(formatDuration(30 * 86_400_000 + 5 * 60_000)).toBe("30d");
    expect(formatDuration(-5)).toBe("0s");
  });
});
