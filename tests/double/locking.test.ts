// LOCKED (and PRIVATE) cache mounts serialise execs across separate processes; SHARED do not.
// Each client is its own OS process with its own engine double over one shared state dir.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { volumeDir } from "../../double/index.js";
import { execLog, repoRoot, tempStateDir } from "./helpers/env.js";

const tsx = createRequire(import.meta.url).resolve("tsx/cli");
const client = join(repoRoot, "tests", "double", "helpers", "counter-client.ts");

function runClient(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsx, client, ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The most execs that were ever inside the read-modify-write section at once. */
function maxConcurrent(dir: string): number {
  const events = readFileSync(join(dir, "intervals"), "utf8")
    .trim()
    .split("\n")
    .map((l) => {
      const [kind, t] = l.split(" ");
      return { start: kind === "start", t: BigInt(t!) };
    })
    .sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  let open = 0;
  let max = 0;
  for (const e of events) {
    open += e.start ? 1 : -1;
    max = Math.max(max, open);
  }
  return max;
}

describe("cache volume sharing across processes", () => {
  it("LOCKED: 8 concurrent processes incrementing one counter lose no update", async () => {
    const stateDir = tempStateDir("locked");
    const results = await Promise.all(Array.from({ length: 8 }, () => runClient([stateDir, "counter", "LOCKED", "0"])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const dir = volumeDir(stateDir, "counter");
    expect(readFileSync(join(dir, "count"), "utf8").trim()).toBe("8");
    // never more than one exec inside the critical section at a time
    expect(maxConcurrent(dir)).toBe(1);
    const lines = execLog(stateDir);
    expect(lines).toHaveLength(8);
    expect(new Set(lines.map((l) => l.callId)).size).toBe(8);
    expect(lines.every((l) => !l.cached && l.mounts[0]?.sharing === "LOCKED")).toBe(true);
  }, 60_000);

  it("PRIVATE behaves like LOCKED (as in v0.21)", async () => {
    const stateDir = tempStateDir("private");
    const results = await Promise.all(Array.from({ length: 4 }, () => runClient([stateDir, "counter", "PRIVATE", "0"])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const dir = volumeDir(stateDir, "counter");
    expect(readFileSync(join(dir, "count"), "utf8").trim()).toBe("4");
    expect(maxConcurrent(dir)).toBe(1);
  }, 60_000);

  it("SHARED: no lock, so concurrent read-modify-write execs overlap and lose updates", async () => {
    const stateDir = tempStateDir("shared");
    // The execs wait for each other at a barrier inside the volume, so they surely overlap.
    const results = await Promise.all(Array.from({ length: 4 }, () => runClient([stateDir, "counter", "SHARED", "4"])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const dir = volumeDir(stateDir, "counter");
    expect(maxConcurrent(dir)).toBeGreaterThan(1);
    expect(Number(readFileSync(join(dir, "count"), "utf8").trim())).toBeLessThan(4);
    expect(execLog(stateDir).every((l) => l.mounts[0]?.sharing === "SHARED")).toBe(true);
  }, 60_000);
});
