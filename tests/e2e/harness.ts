import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { daggerCallCommand, readExecLog, runDaggerCall, volumeDir, type DaggerCallResult } from "../../double/index.js";

export const CONFIG = "tests/e2e/e2e.yaml";
/** The program the state container runs (under `timeout`); its execs are the state operations. */
export const isStateExec = (args: string[]) =>
  args.some((arg, i) => arg === "node" && (args[i + 1] ?? "").includes("/opt/circuit-breaker/state-op-"));

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The namespace of the module's own cache volumes in the double. */
export const MODULE_NAMESPACE = "mod(circuit-breaker.)";

/** Polls `probe` until it gives a value. */
export async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The file of one breaker in the module's default state volume, as the double keeps it on disk. */
export const stateFile = (engine: Engine, breaker: string) =>
  join(volumeDir(engine.stateDir, "circuit-breaker-state", MODULE_NAMESPACE), "breakers", `${breaker}.json`);

/** One engine, many `dagger call` processes: a state dir they share. */
export class Engine {
  readonly stateDir = mkdtempSync(join(tmpdir(), "circuit-breaker-e2e-"));

  call(...argv: string[]): Promise<DaggerCallResult & { ms: number }> {
    const started = Date.now();
    return runDaggerCall(argv, { env: { DAGGER_DOUBLE_STATE_DIR: this.stateDir }, timeoutMs: 240_000 }).then((r) => ({
      ...r,
      ms: Date.now() - started,
    }));
  }

  /** A call left running in a process group of its own, for tests that kill it (`process.kill(-pid)`). */
  start(...argv: string[]): ChildProcess {
    const { file, args } = daggerCallCommand(argv);
    return spawn(file, args, { env: { ...process.env, DAGGER_DOUBLE_STATE_DIR: this.stateDir }, detached: true, stdio: "ignore" });
  }

  execute(workflow: string, ...flags: string[]) {
    return this.call("execute", "--workflow", workflow, "--config", CONFIG, ...flags);
  }

  async status(breaker: string): Promise<StatusJson> {
    const r = await this.call("status", "--breaker", breaker, "--format", "json");
    if (r.code !== 0) throw new Error(`status failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as StatusJson;
  }

  execs() {
    return readExecLog(this.stateDir) as { callId: string; args: string[]; cached: boolean; exitCode: number }[];
  }
}

export interface StatusJson {
  version: number;
  breakers: {
    name: string;
    state: string;
    failures: { kind: string; count?: number; threshold?: number };
    nextProbeAt: string | null;
    probesInFlight: number;
    concurrency: { inUse: number; max: number } | null;
    mode: string;
    counters: Record<string, number>;
  }[];
}
