import type { Service } from "@dagger.io/dagger";
import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../lib/core/policy.js";
import { serializeState } from "../../lib/core/serialize.js";
import { initialState, type BreakerState } from "../../lib/core/state.js";
import { disable, trip } from "../../lib/core/transitions.js";
import calls, { parseUnusedFor, prune } from "../../lib/dagger/state-actions.js";
import { MemoryStateStore } from "../../lib/store/memory-store.js";
import { CountingStore } from "../helpers/counting-store.js";

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const DAY = 86_400_000;


function world(states: BreakerState[] = []) {
  const inner = new MemoryStateStore(() => T0);
  for (const s of states) inner.texts.set(s.name, serializeState(s));
  return { inner, store: new CountingStore(inner) };
}

describe("prune --unused-for", () => {
  it("takes 30d, 12h, 90m and 45s", () => {
    expect(parseUnusedFor("30d")).toBe(30 * DAY);
    expect(parseUnusedFor("12h")).toBe(12 * 3_600_000);
    expect(parseUnusedFor("90m")).toBe(90 * 60_000);
    expect(parseUnusedFor("45s")).toBe(45_000);
  });

  for (const bad of ["30", "30 days", "1.5d", "0d", "-1d", "1d12h", "", "2w"]) {
    it(`refuses ${JSON.stringify(bad)}, naming --unused-for, the value and an example, without a state request`, async () => {
      const w = world([initialState("old", T0 - 40 * DAY)]);
      const error = await prune(w.store, bad, false).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(/^--unused-for must be a whole number followed by s, m, h or d, e\.g\. --unused-for=30d/);
      expect(error?.message).toContain(`got ${JSON.stringify(bad)}`);
      expect(w.store.requests).toEqual([]);
      expect([...w.inner.texts.keys()]).toEqual(["old"]);
    });
  }

  it("refuses a bad value before a store is opened, so no Redis service is started", async () => {
    let started = false;
    const redis = {
      start: async () => {
        started = true;
        return redis;
      },
    } as unknown as Service;
    await expect(calls.prune({ redis }, "30days", false)).rejects.toThrow(/--unused-for/);
    expect(started).toBe(false);
  });
});

describe("prune's report", () => {
  const old = T0 - 40 * DAY;
  const states = () => [
    initialState("per-key-1", old),
    initialState("per-key-2", old - DAY),
    initialState("recent", T0 - DAY),
    trip(initialState("maintenance", old), DEFAULT_POLICY, old, null),
    disable(initialState("off", old), DEFAULT_POLICY, old),
  ];

  it("lists removed breakers and the ones kept for a reason, and counts the recent ones", async () => {
    const w = world(states());
    const text = await prune(w.store, "30d", false);
    expect(w.store.requests).toEqual([{ op: "prune", unusedForMs: 30 * DAY, dryRun: false }]);
    const lines = text.split("\n");
    expect(lines[0]).toBe("removed 2 breaker(s) unused for more than 30d from counting memory store.");
    expect(lines[1]).toMatch(/^BREAKER\s+LAST USED\s+RESULT\s+WHY$/);
    expect(lines.slice(2, 6)).toEqual([
      expect.stringMatching(/^maintenance\s+2026-10-19T09:00:00Z \(40d ago\)\s+kept\s+forced open by hand until reset$/),
      expect.stringMatching(/^off\s+2026-10-19T09:00:00Z \(40d ago\)\s+kept\s+disabled by hand; reset it to let prune remove it$/),
      expect.stringMatching(/^per-key-1\s+2026-10-19T09:00:00Z \(40d ago\)\s+removed\s+unused for more than 30d$/),
      expect.stringMatching(/^per-key-2\s+2026-10-18T09:00:00Z \(41d ago\)\s+removed\s+unused for more than 30d$/),
    ]);
    expect(lines[6]).toBe("1 breaker(s) used within the last 30d kept.");
    expect([...w.inner.texts.keys()].sort()).toEqual(["maintenance", "off", "recent"]);
  });

  it("says a dry run removed nothing, and removes nothing", async () => {
    const w = world(states());
    const text = await prune(w.store, "30d", true);
    expect(text.split("\n")[0]).toBe(
      "dry run: nothing was removed from counting memory store; 2 breaker(s) unused for more than 30d would be removed.",
    );
    expect(text).toMatch(/^per-key-1\s+.*\s+would remove\s+unused for more than 30d$/m);
    expect(w.inner.texts.size).toBe(5);
  });

  it("shows unreadable state as a problem, left as it is", async () => {
    const w = world([initialState("per-key-1", old)]);
    w.inner.texts.set("broken", "{not json");
    const text = await prune(w.store, "30d", false);
    expect(text).toMatch(/^! state of breaker "broken" is unreadable: .*reset --breaker broken/m);
    expect(w.inner.texts.get("broken")).toBe("{not json");
  });
});
