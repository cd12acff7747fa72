import type { ResolvedStep, ResolvedWorkflow } from "../config/resolve-workflow.js";
import type { RequestedWait } from "../core/outcome.js";
import { backoffDelayMs } from "./backoff.js";
import { classifyStepFailure, isRetryable, requestedWait, type FailureClass } from "./classify-failure.js";

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
  /** The time limit the last attempt ran under: the step's own, or what was left of the workflow's. */
  timeoutSeconds: number | null;
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
  /** How the failure counts against the breaker and which rule said so; null on success. */
  classification: FailureClass | null;
  /** The wait the failing output asked for (retry_after), used if this failure opens the breaker. */
  retryAfter: RequestedWait | null;
  durationMs: number;
  /** Why a retry this run wanted was not made (the retry budget was spent); null when none was refused. */
  retryRefused: string | null;
}

/** Asked before each step or workflow retry: null lets it run, a reason refuses it. */
export type RetryGate = () => Promise<string | null>;

export interface RunOptions {
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  clock?: () => number;
  /** The fleet's retry budget; without one every retry the config allows is made. */
  retryGate?: RetryGate;
}

const TAIL_LINES = 20;

export function tail(text: string, lines = TAIL_LINES): string {
  const all = text.trimEnd().split("\n");
  return all.slice(-lines).join("\n");
}

/** The tail of a step's stdout then stderr, for failure messages. */
export function outputTail(run: { stdout: string; stderr: string }): string {
  return tail([run.stdout, run.stderr].map((s) => s.trimEnd()).filter((s) => s !== "").join("\n"));
}

/** Runs one step, retrying failures its retry conditions allow while retries and time remain. */
export async function runStep(
  step: ResolvedStep,
  executor: StepExecutor,
  workflowAttempt: number,
  retryWhen: ResolvedWorkflow["retryWhen"] = null,
  secondsLeft: () => number | null = () => null,
  gate: RetryGate = allowEveryRetry,
): Promise<StepReport & { retryRefused: string | null }> {
  let attempts = 0;
  let last: StepRun;
  let timeoutSeconds: number | null;
  for (;;) {
    attempts += 1;
    const left = secondsLeft();
    // At least 1: `timeout 0` would mean no limit at all.
    timeoutSeconds = left === null ? step.timeoutSeconds : Math.max(1, Math.min(step.timeoutSeconds ?? Infinity, left));
    last = await executor.run(timeoutSeconds === step.timeoutSeconds ? step : { ...step, timeoutSeconds }, {
      workflow: workflowAttempt,
      step: attempts,
    });
    if (last.exitCode === 0 || attempts > step.retries) break;
    if (!isRetryable(step.retryWhen ?? retryWhen, last)) break;
    const after = secondsLeft();
    if (after !== null && after <= 0) break;
    const refused = await gate();
    if (refused !== null) return { name: step.name, attempts, ...last, timeoutSeconds, retryRefused: refused };
  }
  return { name: step.name, attempts, ...last, timeoutSeconds, retryRefused: null };
}

const allowEveryRetry: RetryGate = async () => null;

function describeFailure(workflow: ResolvedWorkflow, failed: StepReport, retryRefused: string | null): string {
  const limit = failed.timeoutSeconds;
  const how = failed.timedOut ? `timed out after ${limit} s` : `exited with code ${failed.exitCode}`;
  const step = workflow.steps.find((s) => s.name === failed.name);
  const cut = failed.timedOut && workflow.timeoutSeconds !== null && limit !== (step?.timeoutSeconds ?? null);
  const why = cut ? ` (the workflow's timeout_seconds: ${workflow.timeoutSeconds} s)` : "";
  const refused = retryRefused === null ? "" : `; no retry: ${retryRefused}`;
  const head = `workflow "${workflow.name}" failed: step "${failed.name}" ${how}${why} (${failed.attempts} attempt(s))${refused}`;
  const output = outputTail(failed);
  return output === "" ? head : `${head}\n${output}`;
}

function collectOutput(reports: StepReport[]): string {
  if (reports.length === 1) return reports[0]?.stdout ?? "";
  return reports.map((r) => `--- step ${r.name} ---\n${r.stdout}`).join("\n");
}

/**
 * Runs the steps layer by layer (steps of one layer concurrently), each with its own retries,
 * and the whole workflow again with backoff while retries, retry conditions and the
 * workflow's time limit allow. A failure is classified for the breaker once, at the end.
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
  const limitMs = workflow.timeoutSeconds === null ? null : workflow.timeoutSeconds * 1000;
  const secondsLeft = () => (limitMs === null ? null : Math.max(0, Math.ceil((limitMs - (clock() - started)) / 1000)));
  const gate = options.retryGate ?? allowEveryRetry;
  let attempt = 0;
  for (;;) {
    attempt += 1;
    const reports: StepReport[] = [];
    let retryRefused: string | null = null;
    let failed: StepReport | undefined;
    for (const layer of workflow.layers) {
      if (secondsLeft() === 0) {
        failed = timedOutBefore(layer[0] ?? "", workflow);
        reports.push(failed);
        break;
      }
      const results = await Promise.all(
        layer.map((name) => {
          const step = steps.get(name);
          if (!step) throw new Error(`workflow "${workflow.name}" has no step "${name}"`);
          return runStep(step, executor, attempt, workflow.retryWhen, secondsLeft, gate);
        }),
      );
      for (const { retryRefused: refused, ...report } of results) {
        reports.push(report);
        retryRefused ??= refused;
      }
      failed = reports.find((r) => r.exitCode !== 0);
      if (failed) break;
    }
    const base = { attempts: attempt, steps: reports, output: collectOutput(reports) };
    if (!failed) {
      return {
        ok: true,
        ...base,
        failedStep: null,
        exitCode: null,
        error: null,
        classification: null,
        retryAfter: null,
        durationMs: clock() - started,
        retryRefused: null,
      };
    }
    const delay = backoffDelayMs(workflow.retry, attempt, options.random);
    const left = secondsLeft();
    const wanted =
      retryRefused === null &&
      attempt <= workflow.retry.maxRetries &&
      isRetryable(workflow.retryWhen, failed) &&
      (left === null || left * 1000 > delay);
    if (wanted) retryRefused = await gate();
    if (!wanted || retryRefused !== null) {
      const step = steps.get(failed.name);
      return {
        ok: false,
        ...base,
        failedStep: failed.name,
        exitCode: failed.exitCode,
        error: describeFailure(workflow, failed, retryRefused),
        classification: step ? classifyStepFailure(workflow, step, failed) : { counts: true, rule: `workflow "${workflow.name}" timeout_seconds` },
        retryAfter: requestedWait(workflow, failed.name, failed),
        durationMs: clock() - started,
        retryRefused,
      };
    }
    await sleep(delay);
  }
}

/** The report of a step the workflow's time limit left no time to start. */
function timedOutBefore(stepName: string, workflow: ResolvedWorkflow): StepReport {
  return {
    name: stepName,
    attempts: 0,
    exitCode: 124,
    timedOut: true,
    timeoutSeconds: 0,
    durationMs: 0,
    stdout: "",
    stderr: `not started: the workflow's timeout_seconds (${workflow.timeoutSeconds} s) had run out`,
  };
}

/**
 * The longest a workflow can run: every step's timeout with retries and backoff, or the
 * workflow's timeout_seconds when that is shorter or the only bound; 0 when unbounded. A
 * probe's slot is held at least this long, plus the health probe's own time limit.
 */
export function expectedDurationMs(workflow: ResolvedWorkflow): number {
  const probeMs = (workflow.probe?.timeoutSeconds ?? 0) * 1000;
  const limitMs = workflow.timeoutSeconds === null ? Infinity : workflow.timeoutSeconds * 1000;
  const stepsMs = stepBoundMs(workflow);
  const bound = Math.min(stepsMs ?? Infinity, limitMs);
  return Number.isFinite(bound) ? bound + probeMs : 0;
}

/** The steps' own bound, from their timeouts, retries and backoff; null when some step has no timeout. */
function stepBoundMs(workflow: ResolvedWorkflow): number | null {
  let perAttempt = 0;
  for (const layer of workflow.layers) {
    let longest = 0;
    for (const name of layer) {
      const step = workflow.steps.find((s) => s.name === name);
      if (!step || step.timeoutSeconds === null) return null;
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
