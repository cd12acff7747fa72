// Shared bits for the engine double's own tests.
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
export const toyModule = join(repoRoot, "tests", "fixtures", "toy-module");

/** Registrations are keyed by source digest, so one shared dir per machine is safe. */
export const registrationCache = join(tmpdir(), "dagger-double-test-registrations");

export function tempStateDir(label = "state"): string {
  return mkdtempSync(join(tmpdir(), `dagger-double-${label}-`));
}

export interface ExecLogLine {
  time: string;
  callId: string;
  pid: number;
  caller: string;
  args: string[];
  image: string | null;
  workdir: string;
  env: string[];
  secretEnv: string[];
  mounts: { path: string; type: string; volume?: string; namespace?: string; sharing?: string }[];
  cached: boolean;
  exitCode: number;
  durationMs: number;
}

export function execLog(stateDir: string): ExecLogLine[] {
  const p = join(stateDir, "exec-log.jsonl");
  if (!existsSync(p)) return [];
  return readFileSync(p, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as ExecLogLine);
}

export interface CallLogLine {
  callId: string;
  function: string;
  policy: string;
  cached: boolean;
  error?: string;
}

export function callLog(stateDir: string): CallLogLine[] {
  const p = join(stateDir, "call-log.jsonl");
  if (!existsSync(p)) return [];
  return readFileSync(p, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as CallLogLine);
}
