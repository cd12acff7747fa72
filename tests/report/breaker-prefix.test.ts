import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { metrics, status } from "../../lib/dagger/state-actions.js";
import type { StatusReport } from "../../lib/report/status-report.js";
import { MemoryStateStore } from "../../lib/store/memory-store.js";

/** status --prefix and metrics --prefix keep a store of many per-key breakers readable. */

const T0 = Date.UTC(2026, 11, 1, 9, 0, 0);

async function storeWith(...names: string[]): Promise<MemoryStateStore> {
  const store = new MemoryStateStore(() => T0);
  for (const breaker of names) await store.apply({ op: "trip", breaker, policy: null, durationMs: null });
  return store;
}

const breakerColumn = (table: string) =>
  table
    .split("\n")
    .slice(1)
    .map((line) => line.split(/\s+/)[0]);

describe("status --prefix", () => {
  it("shows only the breakers whose name starts with the prefix, in the table and in JSON", async () => {
    const store = await storeWith("registry-ghcr.io", "deploy-api", "registry-quay.io", "registries");
    expect(breakerColumn(await status(store, null, "table", "registry-")).sort()).toEqual(["registry-ghcr.io", "registry-quay.io"]);
    const json = JSON.parse(await status(store, null, "json", "registry-")) as StatusReport;
    expect(json.breakers.map((b) => b.name).sort()).toEqual(["registry-ghcr.io", "registry-quay.io"]);
    expect(breakerColumn(await status(store, null, "table", null)).sort()).toEqual(["deploy-api", "registries", "registry-ghcr.io", "registry-quay.io"]);
  });

  it("says when no breaker matches, and how many others there are", async () => {
    const store = await storeWith("deploy-api", "smoke-api");
    expect(await status(store, null, "table", "registry-")).toBe(
      'no breaker in memory has a name starting with "registry-" (2 other breaker(s) exist): check the prefix, or omit --prefix to see every breaker',
    );
    const empty = JSON.parse(await status(store, null, "json", "registry-")) as StatusReport;
    expect(empty.breakers).toEqual([]);
  });

  it("rejects a prefix no breaker name could start with, an empty one, and --breaker together with --prefix", async () => {
    const store = await storeWith("deploy-api");
    await expect(status(store, null, "table", "registry/")).rejects.toThrow('--prefix "registry/" has characters that are not allowed');
    await expect(status(store, null, "table", "-x")).rejects.toThrow('--prefix "-x" has characters that are not allowed');
    await expect(status(store, null, "table", "")).rejects.toThrow("--prefix is empty");
    await expect(status(store, "deploy-api", "table", "deploy")).rejects.toThrow("give --breaker or --prefix, not both");
  });
});

describe("metrics --prefix", () => {
  it("exports series only for the breakers whose name starts with the prefix", async () => {
    const store = await storeWith("registry-ghcr.io", "deploy-api", "registry-quay.io");
    const breakersIn = (text: string) => {
      const families = parsePrometheusTextFormat(text) as { metrics: { labels?: Record<string, string> }[] }[];
      return [...new Set(families.flatMap((f) => f.metrics.map((m) => m.labels?.breaker ?? "")))].sort();
    };
    expect(breakersIn(await metrics(store, "registry-"))).toEqual(["registry-ghcr.io", "registry-quay.io"]);
    expect(breakersIn(await metrics(store, null))).toEqual(["deploy-api", "registry-ghcr.io", "registry-quay.io"]);
    await expect(metrics(store, "a b")).rejects.toThrow('--prefix "a b" has characters that are not allowed');
  });
});
