import { withStepEnv, type ResolvedWorkflow } from "../config/resolve-workflow.js";
import type { LastError, Status, Transition } from "../core/state.js";
import type { BreakerEvent, BreakerObserver } from "../protection/observer.js";
import { runWorkflow, type RunOptions, type StepExecutor } from "../workflow/run-workflow.js";

const ALERTED: readonly Status[] = ["open", "closed", "forced-open"];

/** Whether someone is told of this transition: the breaker started or stopped refusing calls. */
export const isAlerted = (transition: Transition): boolean => ALERTED.includes(transition.to);

/** Characters of the last error handed to the alert; enough for a message, short enough for an env var. */
const LAST_ERROR_CHARS = 2_000;

export interface MadeTransition {
  breaker: string;
  transition: Transition;
  lastError: LastError | null;
}

/**
 * Collects the alerted transitions this caller's own state requests made. The store reports
 * each transition in the response of the one request that made it, so of any number of racing
 * callers exactly one collects it.
 */
export class TransitionCollector implements BreakerObserver {
  readonly made: MadeTransition[] = [];

  observe(event: BreakerEvent): void {
    if (event.kind !== "transition" || !isAlerted(event.transition)) return;
    this.made.push({ breaker: event.breaker, transition: event.transition, lastError: event.lastError });
  }
}

/**
 * What the alert workflow's steps are told, as env; it wins over the steps' own env. The
 * state keeps only an error's first line, so the caller's own failure, with its output's
 * tail, is told instead when this call's run is what tipped the breaker.
 */
export function alertEnv(made: MadeTransition, ownError: string | null = null): Record<string, string> {
  const error = (made.transition.to === "open" ? ownError : null) ?? made.lastError?.message ?? "";
  return {
    CIRCUIT_BREAKER_NAME: made.breaker,
    CIRCUIT_BREAKER_FROM: made.transition.from,
    CIRCUIT_BREAKER_TO: made.transition.to,
    CIRCUIT_BREAKER_REASON: made.transition.reason,
    CIRCUIT_BREAKER_AT: new Date(made.transition.at).toISOString(),
    CIRCUIT_BREAKER_LAST_ERROR: error.length > LAST_ERROR_CHARS ? error.slice(-LAST_ERROR_CHARS) : error,
  };
}

/**
 * Runs the alert workflow once per transition, unprotected. Its failures are returned as
 * warnings: an alert that cannot be sent must not fail the call or count against any breaker.
 */
export async function sendAlerts(
  alert: ResolvedWorkflow,
  made: readonly MadeTransition[],
  executor: StepExecutor,
  options: RunOptions = {},
  ownError: string | null = null,
): Promise<string[]> {
  const warnings: string[] = [];
  for (const one of made) {
    const env = alertEnv(one, ownError);
    const told = withStepEnv(alert, env);
    const what = `alert workflow "${alert.name}" for breaker "${one.breaker}" (${one.transition.from} -> ${one.transition.to})`;
    try {
      const result = await runWorkflow(told, executor, options);
      if (!result.ok) warnings.push(`${what} failed: ${(result.error ?? "no error message").split("\n")[0]}`);
    } catch (e) {
      warnings.push(`${what} could not run: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return warnings;
}
