import type { ResolvedWorkflow } from "../config/resolve-workflow.js";
import type { BreakerView } from "../core/view.js";
import { BreakerOpenError } from "../protection/errors.js";
import { observeAll, silentObserver, type BreakerObserver } from "../protection/observer.js";
import { runProtected } from "../protection/run-protected.js";
import type { StateStore } from "../store/state-store.js";
import type { CallOutcome } from "../core/outcome.js";
import { runHealthProbe } from "../workflow/health-probe.js";
import { AdmissionRecord } from "./admission-record.js";
import { sendAlerts, TransitionCollector } from "./transition-alerts.js";
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
  /** Things the caller should see that did not fail the call, e.g. an alert workflow that failed. */
  warnings: string[];
  /** Time spent waiting for a concurrency slot. */
  queueWaitMs: number;
  /** Observe mode: why enforce mode would have refused this call; null when it would not have. */
  wouldHaveRejected: string | null;
}

export interface ExecuteOptions extends RunOptions {
  /** Run once for each open, close or forced open this call's state requests made. */
  alert?: ResolvedWorkflow | null;
}

/** What the breaker made of the call: refused, or run and recorded. */
type Guarded = Pick<WorkflowOutcome, "rejection" | "result" | "view">;

/**
 * Runs a resolved workflow under its breaker: one state request to be admitted, the
 * workflow, one to record its outcome. A refusal is returned, not thrown, so callers can
 * fall back; state errors are thrown.
 */
export async function executeWorkflow(
  store: StateStore,
  workflow: ResolvedWorkflow,
  executor: StepExecutor,
  options: ExecuteOptions = {},
  observer: BreakerObserver = silentObserver,
): Promise<WorkflowOutcome> {
  const named = { workflow: workflow.name, breaker: workflow.breakerName };
  if (!workflow.useCircuitBreaker) {
    const result = await runWorkflow(workflow, executor, options);
    return { ...named, protected: false, rejection: null, result, view: null, warnings: [], queueWaitMs: 0, wouldHaveRejected: null };
  }
  const made = new TransitionCollector();
  const admission = new AdmissionRecord();
  const alert = options.alert ?? null;
  try {
    const guarded = await runGuarded(store, workflow, executor, options, observeAll(observer, made, admission));
    return {
      ...named,
      protected: true,
      ...guarded,
      queueWaitMs: admission.waitedMs,
      wouldHaveRejected: admission.wouldHaveRejected,
      warnings: alert === null ? [] : await sendAlerts(alert, made.made, executor, options, guarded.result?.error ?? null),
    };
  } catch (e) {
    // A call that failed after making a transition (its executor threw) still sends the alert; the error is what the caller sees.
    if (alert !== null) for (const warning of await sendAlerts(alert, made.made, executor, options)) console.error(`warning: ${warning}`);
    throw e;
  }
}

async function runGuarded(
  store: StateStore,
  workflow: ResolvedWorkflow,
  executor: StepExecutor,
  options: ExecuteOptions,
  observer: BreakerObserver,
): Promise<Guarded> {
  try {
    const run = await runProtected({
      store,
      breaker: workflow.breakerName,
      policy: workflow.policy,
      what: `workflow "${workflow.name}"`,
      expectedDurationMs: expectedDurationMs(workflow),
      clock: options.clock,
      observer,
      admission: { queueTimeoutMs: workflow.queueTimeoutMs, sleep: options.sleep, random: options.random },
      run: async (permit) => {
        const result = await runProbedWorkflow(workflow, executor, options, permit.probe);
        return { value: result, outcome: outcomeOf(result) };
      },
    });
    return { rejection: null, result: run.value, view: run.view };
  } catch (e) {
    if (e instanceof BreakerOpenError) return { rejection: e, result: null, view: e.view };
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
