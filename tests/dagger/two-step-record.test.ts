import { describe, expect, it } from "vitest";
import { acquire, record } from "../../lib/dagger/permit-actions.js";
import { MemoryStateStore } from "../../lib/store/memory-store.js";

describe("record, the second half of the two-step API", () => {
  it("counts a permit once: a retried record says nothing changed and leaves the counts alone", async () => {
    const store = new MemoryStateStore(() => Date.UTC(2026, 10, 30, 12, 0, 0));
    const permit = await acquire(store, "registry", null, null);
    const failure = { success: false, error: "push refused", exitCode: 1, durationMs: 10 };
    const first = await record(store, permit.token, failure);
    expect(first).not.toMatch(/^permit /);
    expect(first).toContain("1/5 consecutive failures");
    const again = await record(store, permit.token, failure);
    expect(again.split("\n")[0]).toBe(`permit ${permit.permitId} was already recorded or cancelled: nothing changed`);
    expect(again).toContain("1/5 consecutive failures");
    const [state] = (await store.apply({ op: "read", breakers: ["registry"] })).states;
    expect(state?.counters).toMatchObject({ admitted: 1, failures: 1 });
  });
});
