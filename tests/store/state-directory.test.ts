import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_POLICY } from "../../lib/core/policy.js";
import { handleRequest } from "../../lib/store/directory/state-directory.js";
import type { StateRequest } from "../../lib/store/request.js";

/** Which fs call of the next state write fails, as a disk or a kill would make it fail. */
type Fault = "write" | "fsync" | "close" | "rename";
const faults = vi.hoisted(() => ({ next: null as Fault | null }));

function failure(code: string, call: string): Error {
  return Object.assign(new Error(`${code}: injected failure, ${call}`), { code });
}

vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const take = (fault: Fault) => {
    if (faults.next !== fault) return false;
    faults.next = null;
    return true;
  };
  return {
    ...fs,
    writeSync: ((fd: number, data: string | NodeJS.ArrayBufferView, ...rest: unknown[]) => {
      if (take("write")) {
        // Part of the text reaches the disk, then the write fails.
        const text = String(data);
        fs.writeSync(fd, text.slice(0, Math.floor(text.length / 2)));
        throw failure("ENOSPC", "write");
      }
      return (fs.writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
    }) as typeof fs.writeSync,
    fsyncSync: ((fd: number) => {
      if (take("fsync")) throw failure("EIO", "fsync");
      return fs.fsyncSync(fd);
    }) as typeof fs.fsyncSync,
    closeSync: ((fd: number) => {
      fs.closeSync(fd);
      if (take("close")) throw failure("EIO", "close");
    }) as typeof fs.closeSync,
    renameSync: ((from: string, to: string) => {
      if (take("rename")) throw failure("EXDEV", "rename");
      return fs.renameSync(from, to);
    }) as typeof fs.renameSync,
  };
});

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
let dir: string;
let breakersDir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "state-directory-"));
  breakersDir = join(dir, "breakers");
  faults.next = null;
});
afterEach(() => {
  faults.next = null;
  rmSync(dir, { recursive: true, force: true });
});

const acquire = (breaker: string, permitId: string): StateRequest => ({
  op: "acquire",
  breaker,
  policy: DEFAULT_POLICY,
  permitId,
  expectedDurationMs: 0,
});
const files = () => readdirSync(breakersDir).sort();
const readAll = (now = T0) => handleRequest(dir, { op: "read", breakers: null }, now);

describe("a state write that fails part-way", () => {
  for (const fault of ["write", "fsync", "close", "rename"] as const) {
    it(`at ${fault}: throws, leaves the previous state whole, and leaves no temporary file`, () => {
      handleRequest(dir, acquire("deploy", "p1"), T0);
      const before = readFileSync(join(breakersDir, "deploy.json"), "utf8");
      expect(JSON.parse(before).counters.admitted).toBe(1);

      faults.next = fault;
      expect(() => handleRequest(dir, acquire("deploy", "p2"), T0 + 1_000)).toThrow(/injected failure/);
      expect(faults.next, "the fault was reached").toBeNull();

      const after = readFileSync(join(breakersDir, "deploy.json"), "utf8");
      expect(after).toBe(before);
      expect(JSON.parse(after).counters.admitted).toBe(1);
      expect(files()).toEqual(["deploy.json"]);
      expect(files().filter((f) => f.endsWith(".tmp"))).toEqual([]);

      const read = readAll(T0 + 2_000);
      expect(read.problems).toEqual([]);
      expect(read.states.map((s) => s.name)).toEqual(["deploy"]);
      expect(read.states[0]?.counters.admitted).toBe(1);

      // The next write works and builds on the previous state.
      handleRequest(dir, acquire("deploy", "p3"), T0 + 3_000);
      expect(JSON.parse(readFileSync(join(breakersDir, "deploy.json"), "utf8")).counters.admitted).toBe(2);
      expect(files()).toEqual(["deploy.json"]);
    });
  }

  it("of a new breaker: creates no breaker and no temporary file", () => {
    mkdirSync(breakersDir, { recursive: true });
    faults.next = "write";
    expect(() => handleRequest(dir, acquire("fresh", "p1"), T0)).toThrow(/ENOSPC/);
    expect(files()).toEqual([]);
    expect(readAll().states).toEqual([]);
  });
});

describe("a read", () => {
  it("neither lists nor chokes on temporary files left by a killed writer", () => {
    handleRequest(dir, acquire("deploy", "p1"), T0);
    // What a writer killed between open and rename leaves: partial JSON under a temporary name,
    // for an existing breaker and for one that was never written.
    writeFileSync(join(breakersDir, "deploy.json.4242.0badc0de.tmp"), '{"version":1,"name":"deploy","stat');
    writeFileSync(join(breakersDir, "ghost.json.4243.deadbeef.tmp"), '{"version":1,"name":"gho');
    writeFileSync(join(breakersDir, "empty.json.4244.00000000.tmp"), "");

    const all = readAll(T0 + 1_000);
    expect(all.problems).toEqual([]);
    expect(all.states.map((s) => s.name)).toEqual(["deploy"]);
    expect(all.states[0]?.counters.admitted).toBe(1);

    const named = handleRequest(dir, { op: "read", breakers: ["deploy", "ghost"] }, T0 + 1_000);
    expect(named.problems).toEqual([]);
    expect(named.states.map((s) => s.name)).toEqual(["deploy"]);

    // Writes go on beside the leftovers.
    handleRequest(dir, acquire("deploy", "p2"), T0 + 2_000);
    expect(readAll(T0 + 2_000).states[0]?.counters.admitted).toBe(2);
  });
});
