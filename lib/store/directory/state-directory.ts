import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { serializeState } from "../../core/serialize.js";
import { applyRequest, readStates } from "../apply.js";
import type { StateRequest, StateResponse } from "../request.js";

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
    const names = request.breakers ?? listBreakers(breakers);
    const entries = names.flatMap((breaker) => {
      const text = readIfPresent(join(breakers, `${breaker}.json`));
      return text === null ? [] : [{ breaker, text }];
    });
    return readStates(entries, now);
  }
  const file = join(breakers, `${request.breaker}.json`);
  const { next, response } = applyRequest(request, readIfPresent(file), now);
  if (next !== null) writeAtomically(file, serializeState(next));
  return response;
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
