import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { serializeState } from "../../core/serialize.js";
import { applyRequest, readStates } from "../apply.js";
import { planPrune, pruneResponse, type PruneRequest } from "../prune-plan.js";
import type { PruneResult, StateRequest, StateResponse } from "../request.js";

/**
 * Breaker states as files in a directory, one `<name>.json` per breaker. This runs inside the
 * state container with the cache volume mounted LOCKED, so it is the only writer while it
 * runs; writes still go through a temporary file and a rename so that a process killed
 * mid-write leaves the previous state whole.
 */
export function handleRequest(dir: string, request: StateRequest, now: number): StateResponse {
  const breakers = join(dir, "breakers");
  mkdirSync(breakers, { recursive: true });
  if (request.op === "read") {
    return readStates(readEntries(breakers, request.breakers ?? listBreakers(breakers)), now);
  }
  if (request.op === "prune") return prune(breakers, request, now);
  const file = join(breakers, `${request.breaker}.json`);
  const { next, response } = applyRequest(request, readIfPresent(file), now);
  if (next !== null) writeAtomically(file, serializeState(next));
  return response;
}

/**
 * Deletes the files of breakers nobody uses. The volume lock makes this the only writer, so a
 * file judged is the file deleted; an exec killed part-way leaves each breaker whole or gone.
 * Temporary files can only be leftovers of a writer killed before its rename, so they go too.
 */
function prune(dir: string, request: PruneRequest, now: number): StateResponse {
  const plan = planPrune(readEntries(dir, listBreakers(dir)), now, request.unusedForMs);
  const leftovers: PruneResult["leftovers"] = readdirSync(dir)
    .filter((f) => TEMPORARY_FILE.test(f))
    .sort()
    .map((name) => ({ kind: "temporary-file", name }));
  if (!request.dryRun) {
    for (const c of plan.remove) removeIfPresent(join(dir, `${c.breaker}.json`));
    for (const l of leftovers) removeIfPresent(join(dir, l.name));
  }
  return pruneResponse(request, now, plan, new Set(), leftovers);
}

/** The name `writeAtomically` gives its temporary file: `<breaker>.json.<pid>.<hex>.tmp`. */
const TEMPORARY_FILE = /^[^/]+\.json\.\d+\.[0-9a-f]*\.tmp$/;

function removeIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}

/** The stored text of each named breaker that has a file. */
function readEntries(dir: string, names: string[]): { breaker: string; text: string }[] {
  return names.flatMap((breaker) => {
    const text = readIfPresent(join(dir, `${breaker}.json`));
    return text === null ? [] : [{ breaker, text }];
  });
}

function listBreakers(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -".json".length))
    .sort();
}

function readIfPresent(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

function writeAtomically(file: string, text: string): void {
  // Writers are serialised by the volume lock, so the pid and a Math.random suffix are unique
  // enough; node:crypto would cost every state operation ~10 ms of start-up.
  const temp = `${file}.${process.pid}.${Math.random().toString(16).slice(2, 10)}.tmp`;
  const fd = openSync(temp, "w", 0o644);
  try {
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (e) {
    // A failed write leaves no temporary file behind; the write's own error is what the caller sees.
    try {
      unlinkSync(temp);
    } catch {
      // Already gone, or cannot be removed: a read never lists it either way.
    }
    throw e;
  }
}
