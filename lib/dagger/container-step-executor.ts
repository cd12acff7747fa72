import { randomUUID } from "node:crypto";
import { CacheSharingMode, dag, ReturnType, type Container, type Directory, type Secret } from "@dagger.io/dagger";
import type { ResolvedStep } from "../config/resolve-workflow.js";
import type { StepExecutor, StepRun } from "../workflow/run-workflow.js";

/** Where a caller's source directory is mounted in every step. */
export const SOURCE_MOUNT = "/src";

/** Exit codes of `timeout` when it ends a command (GNU: 124; busybox: killed by TERM). */
const TIMEOUT_EXIT_CODES = new Set([124, 143]);

export interface StepInputs {
  /** Caller parameters, given to every step as env; they win over the config's env. */
  params: Record<string, string>;
  secrets: Map<string, Secret>;
  source: Directory | null;
  /** With caching off every step carries a fresh value, so Dagger runs it again. */
  caching: boolean;
  clock?: () => number;
}

/** Runs each step as a Dagger container; the command is an argv list, never shell text. */
export class ContainerStepExecutor implements StepExecutor {
  constructor(private readonly inputs: StepInputs) {}

  container(step: ResolvedStep): Container {
    let c = dag.container().from(step.image);
    if (this.inputs.source) c = c.withMountedDirectory(SOURCE_MOUNT, this.inputs.source);
    const workdir = step.workdir ?? (this.inputs.source ? SOURCE_MOUNT : null);
    if (workdir !== null) c = c.withWorkdir(workdir);
    for (const [path, volume] of Object.entries(step.cacheVolumes)) {
      c = c.withMountedCache(path, dag.cacheVolume(volume), { sharing: CacheSharingMode.Shared });
    }
    for (const [name, value] of Object.entries({ ...step.env, ...this.inputs.params })) {
      c = c.withEnvVariable(name, value);
    }
    for (const name of step.secrets) {
      const secret = this.inputs.secrets.get(name);
      if (secret) c = c.withSecretVariable(name, secret);
    }
    return c;
  }

  async run(step: ResolvedStep, attempt: { workflow: number; step: number }): Promise<StepRun> {
    const clock = this.inputs.clock ?? Date.now;
    let c = this.container(step);
    if (!this.inputs.caching) c = c.withEnvVariable("CIRCUIT_BREAKER_RUN_ID", `${randomUUID()}-${attempt.workflow}.${attempt.step}`);
    const argv = step.timeoutSeconds === null ? step.command : ["timeout", String(step.timeoutSeconds), ...step.command];
    const started = clock();
    const ran = c.withExec(argv, { expect: ReturnType.Any });
    const exitCode = await ran.exitCode();
    const stdout = await ran.stdout();
    const stderr = await ran.stderr();
    const durationMs = clock() - started;
    const timedOut =
      step.timeoutSeconds !== null && TIMEOUT_EXIT_CODES.has(exitCode) && durationMs >= step.timeoutSeconds * 1000 * 0.9;
    return { exitCode, stdout, stderr, durationMs, timedOut };
  }
}
