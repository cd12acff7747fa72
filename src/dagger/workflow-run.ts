import { func, object } from "@dagger.io/dagger";

/** The result of one `run` call: how the workflow and its breaker fared. */
@object()
export class WorkflowRun {
  /** Name of the workflow that was asked for. */
  @func()
  workflow: string = "";

  /** Name of the breaker that guarded it. */
  @func()
  breaker: string = "";

  /** True when the workflow ran and every step succeeded; when a fallback ran instead, whether the fallback succeeded. */
  @func()
  success: boolean = false;

  /** True when the breaker refused the call, so nothing ran. */
  @func()
  rejected: boolean = false;

  /** The breaker's state after the call: closed, open, half-open, forced-open, disabled, or unprotected. */
  @func()
  breakerState: string = "";

  /** Whole-workflow attempts made, retries included; 0 when rejected. */
  @func()
  attempts: number = 0;

  /** Wall time of the workflow run in milliseconds; 0 when rejected. */
  @func()
  durationMs: number = 0;

  /** Standard output of the steps, in run order; the fallback's when it ran instead. */
  @func()
  output: string = "";

  /** Why the call failed or was refused (the fallback's failure when it ran instead); empty on success. */
  @func()
  error: string = "";

  /** The step that failed; empty when none did. */
  @func()
  failedStep: string = "";

  /** Exit code of the failed step; 0 when none failed. */
  @func()
  exitCode: number = 0;

  /** True when this call's failure counted against the breaker; false on success and for neutral failures. */
  @func()
  countedAsFailure: boolean = false;

  /** The rule that classified the failure (a failure rule, guarded: false, ignored_exit_codes, the health probe); empty on success. */
  @func()
  classifiedBy: string = "";

  /** True when the breaker refused the call for a full concurrency limit (max_concurrent_calls), not for the service's health. */
  @func()
  rejectedByConcurrencyLimit: boolean = false;

  /** True when the breaker refused the call because its rate limit (rate_limit) was used up for the period. */
  @func()
  rejectedByRateLimit: boolean = false;

  /** Why a retry was not made because the breaker's fleet-wide retry budget (retry_budget) was spent; empty when none was refused. */
  @func()
  retryRefusedByBudget: string = "";

  /** The workflow's fallback that ran instead, because the breaker refused the call or (fallback_on_failure) it failed; empty when none ran. */
  @func()
  fallbackWorkflow: string = "";

  /** Why the fallback ran: the refusal's message or the failure's first line; empty when none ran. */
  @func()
  fallbackReason: string = "";

  /** Milliseconds this call waited for a concurrency slot before it was admitted or refused. */
  @func()
  queueWaitMs: number = 0;

  /** Observe mode: why enforce mode would have refused this call; empty when it would not have. */
  @func()
  wouldHaveRejected: string = "";

  /** Things to know that did not fail the call, such as an alert workflow (on_transition) that failed. */
  @func()
  warnings: string[] = [];

  /** ISO time when the breaker admits the next probe; empty when it is not open. */
  @func()
  nextProbeAt: string = "";
}
