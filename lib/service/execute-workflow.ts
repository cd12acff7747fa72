import { withStepEnv, type ResolvedWorkflow } from "../config/resolve-workflow.js";
import type { BreakerView } from "../core/view.js";
import { BreakerOpenError } from "../protection/errors.js";
import { observeAll, silentObserver, type BreakerObserver } from "../protection/observer.js";
import { runProtected, stateOf } from "../protection/run-protected.js";
import type { StateStore } from "../store/state-store.js";
import type { CallOutcome } from "../core/outcome.js";
import { runHealthProbe } from "../workflow/health-probe.js";
import { AdmissionRecord } from "./admission-record.js";
import { sendAlerts, TransitionCollector } from "./transition-alerts.js";
import { expectedDurationMs, runWorkflow, type RetryGate, type RunOptions, type StepExecutor, type WorkflowRunResult } from "../workflow/run-workflow.js";

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
  /** Set when the workflow's fallback ran instead: which, why, and how it fared. */
  fallback: FallbackRun | null;
}

export interface FallbackRun {
  workflow: string;
  /** The refusal's message, or the failure's first line. */
  reason: string;
  outcome: WorkflowOutcome;
}

/** The workflow to run when the breaker refuses the call (and, with `onFailure`, when the run fails). */
export interface FallbackPlan {
  workflow: ResolvedWorkflow;
  onFailure: boolean;
  /** The fallback's own alert workflow, for transitions of its own breaker. */
  alert: ResolvedWorkflow | null;
}

export interface ExecuteOptions extends RunOptions {
  /** Run once for each open, close or forced open this call's state requests made. */
  alert?: ResolvedWorkflow | null;
  fallback?: FallbackPlan | null;
}

/** What the breaker made of the call: refused, or run and recorded. */
type Guarded = Pick<WorkflowOutcome, "rejection" | "result" | "view">;

/**
 * Runs a resolved workflow under its breaker: one state request to be admitted, the
 * workflow, one to record its outcome, and one per retry when the breaker has a retry budget.
 * A refusal is returned, not thrown; when the workflow has a fallback, the fallback runs
 * then (under its own breaker) and its outcome comes back with the refusal. State errors are thrown.
 */
export async function executeWorkflow(
  store: StateStore,
  workflow: ResolvedWorkflow,
  executor: StepExecutor,
  options: ExecuteOptions = {},
  observer: BreakerObserver = silentObserver,
): Promise<WorkflowOutcome> {
  const plan = options.fallback ?? null;
  const primary = await executeGuarded(store, workflow, executor, options, observer);
  const reason = plan === null ? null : fallbackReason(primary, plan);
  if (plan === null || reason === null) return primary;
  const status = primary.view?.status ?? "unprotected";
  // An unprotected workflow has no breaker state to report the fallback against.
  if (primary.view !== null) observer.observe({ kind: "fallback", breaker: workflow.breakerName, status: primary.view.status, workflow: plan.workflow.name, reason });
  const env = {
    CIRCUIT_BREAKER_FALLBACK_REASON: reason,
    CIRCUIT_BREAKER_NAME: workflow.breakerName,
    CIRCUIT_BREAKER_STATE: status,
    CIRCUIT_BREAKER_RETRY_AT: primary.rejection?.retryAt == null ? "" : new Date(primary.rejection.retryAt).toISOString(),
  };
  const outcome = await executeWorkflow(store, withStepEnv(plan.workflow, env), executor, { ...options, alert: plan.alert, fallback: null }, observer);
  const warning = `fallback workflow "${plan.workflow.name}" ran instead of "${workflow.name}": ${reason.split("\n")[0]}`;
  return { ...primary, fallback: { workflow: plan.workflow.name, reason, outcome }, warnings: [...primary.warnings, warning, ...outcome.warnings] };
}

/**
 * Why the fallback runs: the breaker refused the call; or, with `onFailure` or when the retry
 * budget refused a retry, the call ran and failed. Null: it does not run.
 */
function fallbackReason(outcome: WorkflowOutcome, plan: FallbackPlan): string | null {
  if (outcome.rejection !== null) return outcome.rejection.message;
  const result = outcome.result;
  if (result === null || !failureFallsBack(result, plan)) return null;
  return (result.error ?? `workflow "${outcome.workflow}" failed`).split("\n")[0] ?? "";
}

function failureFallsBack(result: WorkflowRunResult, plan: FallbackPlan | null): boolean {
  return plan !== null && !result.ok && (plan.onFailure || result.retryRefused !== null);
}

async function executeGuarded(
  store: StateStore,
  workflow: ResolvedWorkflow,
  executor: StepExecutor,
  options: ExecuteOptions,
  observer: BreakerObserver,
): Promise<WorkflowOutcome> {
  const named = { workflow: workflow.name, breaker: workflow.breakerName, fallback: null };
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
      admission: { queueTimeoutMs: workflow.queueTimeoutMs, sleep: options.sleep, random: options.random, fallback: options.fallback != null },
      run: async (permit) => {
        const retryGate = budgetGate(store, workflow, observer);
        const result = await runProbedWorkflow(workflow, executor, retryGate === null ? options : { ...options, retryGate }, permit.probe);
        return { value: result, outcome: outcomeOf(result), fallback: failureFallsBack(result, options.fallback ?? null) };
      },
    });
    return { rejection: null, result: run.value, view: run.view };
  } catch (e) {
    if (e instanceof BreakerOpenError) return { rejection: e, result: null, view: e.view };
    throw e;
  }
}

/** Asks the breaker's retry budget before each retry: one state request per retry, none for a call that does not retry. */
function budgetGate(store: StateStore, workflow: ResolvedWorkflow, observer: BreakerObserver): RetryGate | null {
  if (workflow.policy.retryBudget === null) return null;
  const breaker = workflow.breakerName;
  return async () => {
    const response = await store.apply({ op: "retry", breaker, policy: workflow.policy });
    const state = stateOf(response, breaker);
    const retry = response.retry;
    if (retry === undefined) throw new Error(`the state store did not answer the retry budget of breaker "${breaker}"`);
    for (const warning of response.warnings ?? []) console.error(`warning: ${warning}`);
    const { allowed, used, allowance, windowMs } = retry;
    observer.observe({ kind: "retry", breaker, status: state.status, allowed, used, allowance, windowMs });
    if (allowed) return null;
    return (
      `the retry budget of breaker "${breaker}" is spent (${used} of ${allowance} retries in the last ${Math.round(windowMs / 1000)} s, ` +
      `from ${retry.firstAttempts} first attempts across every caller); raise retry_budget to allow more`
    );
  };
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
