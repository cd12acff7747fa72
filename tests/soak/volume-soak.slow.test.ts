import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readExecLog } from "../../double/index.js";
import { withVolumeStore } from "./helpers/volume-session.js";

const WORKERS = 4;
const CALLS = 500;

function worker(stateDir: string, seed: number): Promise<Record<string, number>> {
  const tsx = createRequire(import.meta.url).resolve("tsx/cli");
  const script = join(import.meta.dirname, "helpers", "soak-worker.ts");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsx, script, stateDir, "soak", "soak", String(seed), String(CALLS)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b));
    child.stderr.on("data", (b: Buffer) => (err += b));
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out.trim().split("\n").at(-1) ?? "{}")) : reject(new Error(`worker ${seed} exited ${code}: ${err}`))));
  });
}

describe("soak: random outcomes from concurrent runners through the cache-volume store", () => {
  it(`keeps the invariants and counts exactly what ${WORKERS} runners sent (${WORKERS * CALLS} operations)`, async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "circuit-breaker-soak-"));
    const results = await Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(stateDir, 1000 + i)));
    const sum = (k: string) => results.reduce((n, r) => n + (r[k] ?? 0), 0);

    const state = await withVolumeStore(stateDir, "soak", async (store) => (await store.apply({ op: "read", breakers: ["soak"] })).states[0]);
    const c = state?.counters;
    expect(c?.admitted).toBe(sum("admitted"));
    expect(c?.rejections).toBe(sum("rejected"));
    expect((c?.successes ?? 0) + (c?.failures ?? 0) + (c?.ignored ?? 0) + (c?.lateReports ?? 0)).toBe(sum("successes") + sum("failures"));
    expect(c?.cancelled).toBe(sum("cancels"));
    expect(c?.admitted).toBe((c?.successes ?? 0) + (c?.failures ?? 0) + (c?.ignored ?? 0) + (c?.cancelled ?? 0) + (c?.expiredProbes ?? 0));
    expect(Math.max(...results.map((r) => r.maxProbesSeen ?? 0))).toBeLessThanOrEqual(2);
    expect(c?.stateChanges, "the soak should exercise transitions").toBeGreaterThan(10);
    expect(state?.probesInFlight).toHaveLength(0);

    // Every state operation really ran: none was served from the exec cache.
    const execs = readExecLog(stateDir) as { cached: boolean }[];
    expect(execs.filter((e) => e.cached)).toHaveLength(0);
    expect(execs.length).toBe(sum("acquires") + sum("successes") + sum("failures") + sum("cancels") + 1);
  });
});
