import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { serializeState } from "../../lib/core/serialize.js";
import { initialState } from "../../lib/core/state.js";
import { handleRequest } from "../../lib/store/directory/state-directory.js";
import { parseRequest, type StateResponse } from "../../lib/store/request.js";
import type { StateStore } from "../../lib/store/state-store.js";
import { describeStoreContract } from "./store-contract.js";

/**
 * The state program's edge, a directory of breaker files, as the cache-volume store runs it:
 * each request crosses a process boundary as JSON, is parsed by the program's schema, and
 * answers as JSON. Here in this process with a settable clock, so the contract runs fast; the
 * slow suite runs the same contract through real execs in the engine double.
 */
function directoryStore(dir: string, clock: () => number): StateStore {
  return {
    description: `directory ${dir}`,
    apply: async (request) =>
      JSON.parse(JSON.stringify(handleRequest(dir, parseRequest(JSON.stringify(request)), clock()))) as StateResponse,
  };
}

describeStoreContract("directory (the cache-volume state program)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "circuit-breaker-directory-contract-"));
  let now = Date.now();
  return {
    store: directoryStore(dir, () => now),
    setNow: (ms) => {
      now = ms;
    },
    close: async () => rmSync(dir, { recursive: true, force: true }),
    corrupt: async (breaker, text) => {
      mkdirSync(join(dir, "breakers"), { recursive: true });
      writeFileSync(join(dir, "breakers", `${breaker}.json`), text);
    },
  };
});

describe("a prune of the state directory", () => {
  const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
  const DAY = 86_400_000;

  it("deletes the files of unused breakers and the temporary files of killed writers, and leaves no file of its own", () => {
    const dir = mkdtempSync(join(tmpdir(), "circuit-breaker-prune-"));
    try {
      const breakers = join(dir, "breakers");
      mkdirSync(breakers);
      writeFileSync(join(breakers, "stale.json"), serializeState(initialState("stale", T0 - 40 * DAY)));
      writeFileSync(join(breakers, "fresh.json"), serializeState(initialState("fresh", T0 - DAY)));
      writeFileSync(join(breakers, "fresh.json.4242.0badc0de.tmp"), '{"version":1,"na');
      writeFileSync(join(breakers, "notes.txt"), "not ours");

      const dry = handleRequest(dir, { op: "prune", unusedForMs: 30 * DAY, dryRun: true }, T0);
      expect(dry.prune?.leftovers).toEqual([{ kind: "temporary-file", name: "fresh.json.4242.0badc0de.tmp" }]);
      expect(readdirSync(breakers).sort()).toEqual(["fresh.json", "fresh.json.4242.0badc0de.tmp", "notes.txt", "stale.json"]);

      const pruned = handleRequest(dir, { op: "prune", unusedForMs: 30 * DAY, dryRun: false }, T0);
      expect(pruned.prune?.removed).toEqual([{ breaker: "stale", lastUsedAt: T0 - 40 * DAY }]);
      expect(pruned.prune?.leftovers).toEqual(dry.prune?.leftovers);
      expect(readdirSync(breakers).sort()).toEqual(["fresh.json", "notes.txt"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is refused by the program's request schema without a positive whole unusedForMs or a dryRun flag", () => {
    expect(parseRequest(JSON.stringify({ op: "prune", unusedForMs: 1000, dryRun: false }))).toEqual({
      op: "prune",
      unusedForMs: 1000,
      dryRun: false,
    });
    for (const bad of [{ unusedForMs: 0, dryRun: false }, { unusedForMs: 1.5, dryRun: false }, { unusedForMs: -1, dryRun: true }, { unusedForMs: 1000 }]) {
      expect(() => parseRequest(JSON.stringify({ op: "prune", ...bad }))).toThrow(/invalid state request/);
    }
  });
});
