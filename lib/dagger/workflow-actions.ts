import { WorkflowRun } from "../../src/dagger/workflow-run.js";
import type { WorkflowCall, WorkflowCalls } from "../../src/module-api.js";
import { resolveWorkflow, type ResolvedWorkflow } from "../config/resolve-workflow.js";
import { parseParams, pairSecrets } from "../service/call-inputs.js";
import { ConcurrencyLimitError, RateLimitError } from "../protection/errors.js";
import { executeWorkflow, type WorkflowOutcome } from "../service/execute-workflow.js";
import { secretNames } from "../service/secret-names.js";
import type { StateStore } from "../store/state-store.js";
import { TraceObserver } from "../telemetry/trace-observer.js";
import type { StepExecutor } from "../workflow/run-workflow.js";
import { ContainerStepExecutor, type StepInputs } from "./container-step-executor.js";
import { loadConfig } from "./load-config.js";
import { redacting, redactor } from "./redact.js";
import { withStateStore } from "./state-store-choice.js";

/** One `execute` or `run` call: the face's arguments as they are. */
export type ExecuteArgs = WorkflowCall;

/** Makes what runs the steps; calls get containers, tests a fake. */
export type StepExecutorFactory = (inputs: StepInputs) => StepExecutor;

const containers: StepExecutorFactory = (inputs) => new ContainerStepExecutor(inputs);

/** Resolves, checks and runs a workflow; every caller mistake is reported before the breaker is asked. */
export async function execute(store: StateStore, args: ExecuteArgs, executorFor: StepExecutorFactory = containers): Promise<WorkflowOutcome> {
  const { config } = await loadConfig(args.config);
  // Params first: they fill the placeholders of a templated breaker name.
  const params = parseParams(args.params);
  const workflow = resolveWorkflow(config, args.workflow, args.overrides, params);
  // Resolved now, so a broken alert workflow is the caller's mistake before the breaker is asked, not a surprise when it trips.
  const alertOf = (w: ResolvedWorkflow) => (w.onTransition === null ? null : resolveWorkflow(config, w.onTransition, {}, params));
  const alert = alertOf(workflow);
  const fallbackWorkflow = workflow.fallback === null ? null : resolveWorkflow(config, workflow.fallback.workflow, {}, params);
  const fallback =
    fallbackWorkflow === null ? null : { workflow: fallbackWorkflow, onFailure: workflow.fallback?.onFailure === true, alert: alertOf(fallbackWorkflow) };
  const names = await secretNames(args.secretNames, args.secrets);
  const secrets = pairSecrets(workflow, names, args.secrets);
  // The alert's and the fallback's secrets are checked now too: a missing one would otherwise surface only when the breaker trips.
  for (const other of [alert, fallback?.workflow ?? null, fallback?.alert ?? null]) if (other !== null) pairSecrets(other, names, args.secrets);
  const executor = executorFor({ params, secrets, source: args.source, caching: workflow.caching });
  // Redacted before anything is recorded, so a printed secret never reaches breaker state.
  return executeWorkflow(store, workflow, redacting(executor, await redactor([...secrets.values()])), { alert, fallback }, new TraceObserver());
}

/** `execute`'s contract: the output on success, an error naming what failed otherwise; the fallback's, when it ran. */
export function outputOrThrow(outcome: WorkflowOutcome): string {
  // stderr is shown in the caller's progress output; the function's result stays the workflow's output.
  for (const warning of outcome.warnings) console.error(`warning: ${warning}`);
  if (outcome.fallback !== null) return fallbackOutputOrThrow(outcome, outcome.fallback.outcome);
  if (outcome.rejection) throw new Error(outcome.rejection.message);
  const result = outcome.result;
  if (!result) throw new Error(`workflow "${outcome.workflow}" did not run`);
  if (!result.ok) throw new Error(result.error ?? `workflow "${outcome.workflow}" failed`);
  return result.output;
}

/** The fallback's output; when it too failed or was refused, an error that names both. */
function fallbackOutputOrThrow(primary: WorkflowOutcome, fallback: WorkflowOutcome): string {
  const why = primary.fallback?.reason.split("\n")[0] ?? "";
  if (fallback.rejection) throw new Error(`${why}; its fallback workflow "${fallback.workflow}" was refused too: ${fallback.rejection.message}`);
  const result = fallback.result;
  if (!result || !result.ok) {
    throw new Error(`${why}; its fallback workflow "${fallback.workflow}" failed too: ${result?.error ?? "it did not run"}`);
  }
  return result.output;
}

export function toWorkflowRun(outcome: WorkflowOutcome): WorkflowRun {
  const run = new WorkflowRun();
  const r = outcome.result;
  run.workflow = outcome.workflow;
  run.breaker = outcome.breaker;
  run.success = r?.ok ?? false;
  run.rejected = outcome.rejection !== null;
  run.breakerState = outcome.view?.status ?? "unprotected";
  run.attempts = r?.attempts ?? 0;
  run.durationMs = r?.durationMs ?? 0;
  run.output = r?.output ?? "";
  run.error = outcome.rejection?.message ?? r?.error ?? "";
  run.failedStep = r?.failedStep ?? "";
  run.exitCode = r?.exitCode ?? 0;
  run.countedAsFailure = r?.classification?.counts ?? false;
  run.classifiedBy = r?.classification?.rule ?? "";
  run.rejectedByConcurrencyLimit = outcome.rejection instanceof ConcurrencyLimitError;
  run.rejectedByRateLimit = outcome.rejection instanceof RateLimitError;
  run.retryRefusedByBudget = r?.retryRefused ?? "";
  run.queueWaitMs = outcome.queueWaitMs;
  run.wouldHaveRejected = outcome.wouldHaveRejected ?? "";
  run.warnings = outcome.warnings;
  const next = outcome.view?.nextProbeAt ?? null;
  run.nextProbeAt = next === null || outcome.view?.status === "closed" ? "" : new Date(next).toISOString();
  const fallback = outcome.fallback;
  if (fallback !== null) {
    const used = fallback.outcome.result;
    run.fallbackWorkflow = fallback.workflow;
    run.fallbackReason = fallback.reason;
    run.success = used?.ok ?? false;
    run.output = used?.output ?? "";
    run.error = fallback.outcome.rejection?.message ?? used?.error ?? "";
    run.warnings = outcome.warnings;
  }
  return run;
}

/** `execute` and `run`, for the module's face. */
const calls: WorkflowCalls = {
  execute: async (choice, call) => outputOrThrow(await withStateStore(choice, (store) => execute(store, call))),
  run: async (choice, call) => toWorkflowRun(await withStateStore(choice, (store) => execute(store, call))),
};
export default calls;
