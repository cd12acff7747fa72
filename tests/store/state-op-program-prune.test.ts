import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { serializeState } from "../../lib/core/serialize.js";
import { initialState } from "../../lib/core/state.js";
import type { StateRequest, StateResponse } from "../../lib/store/request.js";
import { STATE_OP_PROGRAM } from "../../lib/store/volume/state-op-program.generated.js";

/** The bundled program the state container runs (as committed), run here with this machine's node. */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "state-op-prune-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function runProgram(request: StateRequest): StateResponse {
  const program = join(dir, "state-op.mjs");
  writeFileSync(program, STATE_OP_PROGRAM);
  const run = spawnSync(process.execPath, [program], {
    env: { CB_STATE_DIR: join(dir, "state"), CB_REQUEST: JSON.stringify(request) },
    encoding: "utf8",
  });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout) as StateResponse;
}

describe("the committed state program", () => {
  it("prunes: removes the unused breaker's file, keeps the recent one", () => {
    const DAY = 86_400_000;
    const breakers = join(dir, "state", "breakers");
    mkdirSync(breakers, { recursive: true });
    writeFileSync(join(breakers, "stale.json"), serializeState(initialState("stale", Date.now() - 40 * DAY)));
    writeFileSync(join(breakers, "fresh.json"), serializeState(initialState("fresh", Date.now() - DAY)));
    const response = runProgram({ op: "prune", unusedForMs: 30 * DAY, dryRun: false });
    expect(response.prune?.removed.map((r) => r.breaker)).toEqual(["stale"]);
    expect(response.prune?.kept).toEqual([{ breaker: "fresh", lastUsedAt: expect.any(Number), reason: { kind: "recently-used" } }]);
    expect(readdirSync(breakers)).toEqual(["fresh.json"]);
  });
});
