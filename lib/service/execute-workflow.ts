import type { ResolvedWorkflow } from "../config/resolve-workflow.js";
import type { BreakerView } from "../core/view.js";
import { BreakerOpenError } from "../protection/errors.js";
import type { BreakerObserver } from "../protection/observer.js";
import { runProtected } from "../protection/run-protected.js";
import type { StateStore } from "../store/state-store.js";
import type { CallOutcome } from "../core/outcome.js";
import { runHealthProbe } from "../workflow/health-probe.js";
import { expectedDurationMs, runWorkflow, type RunOptions, type StepExecutor, type WorkflowRunResult } from "../workflow/run-workflow.js";

export interface WorkflowOutcome {
  workflow: string;
  breaker: string;
  /** False when the workflow ran with `use_circuit_breaker: false`. */
  protected: boolean;
  /** Set when the breaker refused the call; the workflow did not run. */
  rejection: BreakerOpenError | null;
  /** The run, when it happened. */
  result: WorkflowRunResult | null;
  /** The breaker after the call; null when unprotected. */
  view: BreakerView | null;
}

/**
 * Runs a resolved workflow under its breaker: one state request to be admitted, the
 * workflow, one to record its outcome. A refusal is returned, not thrown, so callers can
 * fall back; state errors are thrown.
 */
export async function executeWorkflow(
  store: StateStore,
  workflow: ResolvedWorkflow,
  executor: StepExecutor,
  options: RunOptions = {},
  observer?: BreakerObserver,
): Promise<WorkflowOutcome> {
  const base = { workflow: workflow.name, breaker: workflow.breakerName };
  if (!workflow.useCircuitBreaker) {
    const result = await runWorkflow(workflow, executor, options);
    return { ...base, protected: false, rejection: null, result, view: null };
  }
  try {
    const run = await runProtected({
      store,
      breaker: workflow.breakerName,
      policy: workflow.policy,
      what: `workflow "${workflow.name}"`,
      expectedDurationMs: expectedDurationMs(workflow),
      clock: options.clock,
      observer,
      run: async (permit) => {
        const result = await runProbedWorkflow(workflow, executor, options, permit.probe);
        return { value: result, outcome: outcomeOf(result) };
      },
    });
    return { ...base, protected: true, rejection: null, result: run.value, view: run.view };
  } catch (e) {
    if (e instanceof BreakerOpenError) return { ...base, protected: true, rejection: e, result: null, view: e.view };
    throw e;
  }
}

/** A half-open probe call runs the health probe first, when there is one; only if it passes do the steps run. */
async function runProbedWorkflow(
  workflow: ResolvedWorkflow,
  executor: StepExecutor,
  options: RunOptions,
  isProbe: boolean,
): Promise<WorkflowRunResult> {
  if (!isProbe || workflow.probe === null) return runWorkflow(workflow, executor, options);
  const probe = await runHealthProbe(workflow, workflow.probe, executor);
  if (!probe.passed) return probe.result;
  const result = await runWorkflow(workflow, executor, options);
  return { ...result, steps: [probe.report, ...result.steps] };
}

/** What the breaker records of a run: its classification and any wait the service asked for go with it. */
function outcomeOf(result: WorkflowRunResult): CallOutcome {
  const outcome: CallOutcome = { ok: result.ok, durationMs: result.durationMs, exitCode: result.exitCode };
  if (result.error !== null) outcome.error = result.error.split("\n")[0];
  if (result.classification !== null) outcome.classified = result.classification;
  if (result.retryAfter !== null) outcome.retryAfter = result.retryAfter;
  return outcome;
}
