// Shared bits for the engine double's own tests.
import { cpSync, mkdtempSync, readFileSync, existsSync, writeFileSync } from "node:fs";
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

/** A copy of the toy module outside this repository (so no .gitignore applies), changed by `edit`. */
export function toyVariant(edit: (dir: string) => void): string {
  const dir = join(mkdtempSync(join(tmpdir(), "dd-variant-")), "toy-module");
  cpSync(toyModule, dir, { recursive: true });
  edit(dir);
  return dir;
}

export function editJson(path: string, edit: (doc: Record<string, unknown>) => void): void {
  const doc = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  edit(doc);
  writeFileSync(path, JSON.stringify(doc, null, 2));
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
