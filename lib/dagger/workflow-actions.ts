import { WorkflowRun } from "../../src/dagger/workflow-run.js";
import type { WorkflowCall, WorkflowCalls } from "../../src/module-api.js";
import { resolveWorkflow } from "../config/resolve-workflow.js";
import { parseParams, pairSecrets } from "../service/call-inputs.js";
import { ConcurrencyLimitError } from "../protection/errors.js";
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
  const alert = workflow.onTransition === null ? null : resolveWorkflow(config, workflow.onTransition, {}, params);
  const names = await secretNames(args.secretNames, args.secrets);
  const secrets = pairSecrets(workflow, names, args.secrets);
  // The alert's secrets are checked now too: a missing one would otherwise surface only when the breaker trips.
  if (alert !== null) pairSecrets(alert, names, args.secrets);
  const executor = executorFor({ params, secrets, source: args.source, caching: workflow.caching });
  // Redacted before anything is recorded, so a printed secret never reaches breaker state.
  return executeWorkflow(store, workflow, redacting(executor, await redactor([...secrets.values()])), { alert }, new TraceObserver());
}

/** `execute`'s contract: the output on success, an error naming what failed otherwise. */
export function outputOrThrow(outcome: WorkflowOutcome): string {
  // stderr is shown in the caller's progress output; the function's result stays the workflow's output.
  for (const warning of outcome.warnings) console.error(`warning: ${warning}`);
  if (outcome.rejection) throw new Error(outcome.rejection.message);
  const result = outcome.result;
  if (!result) throw new Error(`workflow "${outcome.workflow}" did not run`);
  if (!result.ok) throw new Error(result.error ?? `workflow "${outcome.workflow}" failed`);
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
  run.queueWaitMs = outcome.queueWaitMs;
  run.wouldHaveRejected = outcome.wouldHaveRejected ?? "";
  run.warnings = outcome.warnings;
  const next = outcome.view?.nextProbeAt ?? null;
  run.nextProbeAt = next === null || outcome.view?.status === "closed" ? "" : new Date(next).toISOString();
  return run;
}

/** `execute` and `run`, for the module's face. */
const calls: WorkflowCalls = {
  execute: async (choice, call) => outputOrThrow(await withStateStore(choice, (store) => execute(store, call))),
  run: async (choice, call) => toWorkflowRun(await withStateStore(choice, (store) => execute(store, call))),
};
export default calls;
