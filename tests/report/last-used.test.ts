import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../lib/core/policy.js";
import { initialState } from "../../lib/core/state.js";
import { acquire } from "../../lib/core/transitions.js";
import { statusReport, statusTable } from "../../lib/report/status-report.js";

const T0 = Date.UTC(2026, 10, 30, 10, 0, 0);

describe("status shows when each breaker was last used", () => {
  const used = acquire(initialState("staging-api", T0 - 3_600_000), DEFAULT_POLICY, T0 - 90_000, "p1").state;

  it("in the table, as a LAST USED column with a relative time", () => {
    const [header, row] = statusTable([used], [], T0).split("\n");
    expect(header).toMatch(/\s+PROBES\s+LAST USED$/);
    expect(row).toMatch(/\s0\/1\s+2026-11-30T09:58:30Z \(90s ago\)$/);
  });

  it("in the JSON, as lastUsedAt (ISO)", () => {
    const [breaker] = statusReport([used], [], T0).breakers;
    expect(breaker?.lastUsedAt).toBe("2026-11-30T09:58:30.000Z");
    expect(statusReport([used], [], T0).version).toBe(1);
  });
});
