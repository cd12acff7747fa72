import type { ResolvedStep, ResolvedWorkflow } from "../config/resolve-workflow.js";
import { backoffDelayMs } from "./backoff.js";

/** One run of one step's command. */
export interface StepRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

/** Runs a step's command somewhere: in Dagger containers, or in a test's fake. */
export interface StepExecutor {
  run(step: ResolvedStep, attempt: { workflow: number; step: number }): Promise<StepRun>;
}

export interface StepReport {
  name: string;
  attempts: number;
  exitCode: number;
  timedOut: boolean;
  durationMs: number;
  stdout: string;
  stderr: string;
}

export interface WorkflowRunResult {
  ok: boolean;
  /** Whole-workflow attempts made (1 + retries used). */
  attempts: number;
  steps: StepReport[];
  /** Standard output of the steps of the last attempt, in run order. */
  output: string;
  failedStep: string | null;
  exitCode: number | null;
  /** One line saying what failed, then the tail of the failed step's output. */
  error: string | null;
  durationMs: number;
}

export interface RunOptions {
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  clock?: () => number;
}

const TAIL_LINES = 20;

export function tail(text: string, lines = TAIL_LINES): string {
  const all = text.trimEnd().split("\n");
  return all.slice(-lines).join("\n");
}

async function runStep(step: ResolvedStep, executor: StepExecutor, workflowAttempt: number): Promise<StepReport> {
  let attempts = 0;
  let last: StepRun;
  do {
    attempts += 1;
    last = await executor.run(step, { workflow: workflowAttempt, step: attempts });
  } while (last.exitCode !== 0 && attempts <= step.retries);
  return { name: step.name, attempts, ...last };
}

function describeFailure(workflow: ResolvedWorkflow, failed: StepReport, step: ResolvedStep): string {
  const how = failed.timedOut ? `timed out after ${step.timeoutSeconds} s` : `exited with code ${failed.exitCode}`;
  const head = `workflow "${workflow.name}" failed: step "${failed.name}" ${how} (${failed.attempts} attempt(s))`;
  const output = tail([failed.stdout, failed.stderr].map((s) => s.trimEnd()).filter((s) => s !== "").join("\n"));
  return output === "" ? head : `${head}\n${output}`;
}

function collectOutput(reports: StepReport[]): string {
  if (reports.length === 1) return reports[0]?.stdout ?? "";
  return reports.map((r) => `--- step ${r.name} ---\n${r.stdout}`).join("\n");
}

/**
 * Runs the steps layer by layer (steps of one layer concurrently), each with its own retries,
 * and the whole workflow again with backoff while retries remain.
 */
export async function runWorkflow(
  workflow: ResolvedWorkflow,
  executor: StepExecutor,
  options: RunOptions = {},
): Promise<WorkflowRunResult> {
  const sleep = options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const clock = options.clock ?? Date.now;
  const steps = new Map(workflow.steps.map((s) => [s.name, s]));
  const started = clock();
  let attempt = 0;
  for (;;) {
    attempt += 1;
    const reports: StepReport[] = [];
    let failed: StepReport | undefined;
    for (const layer of workflow.layers) {
      const results = await Promise.all(
        layer.map((name) => {
          const step = steps.get(name);
          if (!step) throw new Error(`workflow "${workflow.name}" has no step "${name}"`);
          return runStep(step, executor, attempt);
        }),
      );
      reports.push(...results);
      failed = results.find((r) => r.exitCode !== 0);
      if (failed) break;
    }
    if (!failed) {
      return { ok: true, attempts: attempt, steps: reports, output: collectOutput(reports), failedStep: null, exitCode: null, error: null, durationMs: clock() - started };
    }
    if (attempt > workflow.retry.maxRetries) {
      const step = steps.get(failed.name) as ResolvedStep;
      return {
        ok: false,
        attempts: attempt,
        steps: reports,
        output: collectOutput(reports),
        failedStep: failed.name,
        exitCode: failed.exitCode,
        error: describeFailure(workflow, failed, step),
        durationMs: clock() - started,
      };
    }
    await sleep(backoffDelayMs(workflow.retry, attempt, options.random));
  }
}

/**
 * The longest a workflow can run when every step has a timeout, counting retries and
 * backoff; 0 when some step has none. A probe's slot is held at least this long.
 */
export function expectedDurationMs(workflow: ResolvedWorkflow): number {
  let perAttempt = 0;
  for (const layer of workflow.layers) {
    let longest = 0;
    for (const name of layer) {
      const step = workflow.steps.find((s) => s.name === name);
      if (!step || step.timeoutSeconds === null) return 0;
      longest = Math.max(longest, step.timeoutSeconds * 1000 * (step.retries + 1));
    }
    perAttempt += longest;
  }
  let backoff = 0;
  for (let retry = 1; retry <= workflow.retry.maxRetries; retry++) {
    backoff += backoffDelayMs(workflow.retry, retry, () => 1);
  }
  return perAttempt * (workflow.retry.maxRetries + 1) + backoff;
}
