// Spawn the `dagger call` stand-in as a separate process, as e2e tests do for every call.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "../util.js";

export interface RunDaggerCallOptions {
  /** Extra environment (merged over process.env), e.g. DAGGER_DOUBLE_STATE_DIR. */
  env?: Record<string, string | undefined>;
  /** Working directory (default: the repo root). */
  cwd?: string;
  /** Kill the process after this long (default 120 s). */
  timeoutMs?: number;
}

export interface DaggerCallResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The command of one `dagger call` stand-in process: a single node process (see launch.mjs). */
export function daggerCallCommand(argv: string[]): { file: string; args: string[] } {
  return { file: process.execPath, args: ["--no-deprecation", join(repoRoot, "double", "cli", "launch.mjs"), ...argv] };
}

export function runDaggerCall(argv: string[], options: RunDaggerCallOptions = {}): Promise<DaggerCallResult> {
  const command = daggerCallCommand(argv);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...options.env })) if (v !== undefined) env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(command.file, command.args, {
      cwd: options.cwd ?? repoRoot,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString("utf8")));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
