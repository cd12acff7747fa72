import type { FailureMatcher } from "../config/failure-rules.js";
import { matchedLines } from "../config/output-pattern.js";
import type { ResolvedStep, ResolvedWorkflow } from "../config/resolve-workflow.js";
import { classify, type RequestedWait } from "../core/outcome.js";

/**
 * How a failed step counts against the breaker, decided in this order (the first answer wins):
 *   1. the step's failure_rules, in order;
 *   2. the workflow's failure_rules, in order;
 *   3. `guarded: false` on the step: neutral;
 *   4. the breaker's ignored_exit_codes: neutral;
 *   5. otherwise it counts.
 */
export interface FailureClass {
  counts: boolean;
  /** What decided, for the recorded outcome, `status` and the run result. */
  rule: string;
}

/** The parts of a step run that rules look at. */
export interface FailedRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function matches(matcher: FailureMatcher, run: FailedRun, lines: () => string[]): boolean {
  if (matcher.exitCodes !== null && !matcher.exitCodes.includes(run.exitCode)) return false;
  const output = matcher.output;
  return output === null || lines().some((line) => output.test(line));
}

/** Splits the output into matched lines once, and only when some rule asks for output. */
function lazyLines(run: FailedRun): () => string[] {
  let lines: string[] | null = null;
  return () => (lines ??= matchedLines(run.stdout, run.stderr));
}

export function classifyStepFailure(workflow: ResolvedWorkflow, step: ResolvedStep, run: FailedRun): FailureClass {
  const lines = lazyLines(run);
  for (const rule of [...step.failureRules, ...workflow.failureRules]) {
    if (matches(rule, run, lines)) return { counts: rule.counts, rule: rule.label };
  }
  if (!step.guarded) return { counts: false, rule: `step "${step.name}" guarded: false` };
  const verdict = classify({ ok: false, durationMs: 0, exitCode: run.exitCode }, workflow.policy);
  return { counts: verdict.kind === "failure", rule: verdict.kind === "success" ? "default: every failure counts" : verdict.rule };
}

/** Whether a failure may be retried: the step's retry_when, else the workflow's, else always. */
export function isRetryable(conditions: FailureMatcher[] | null, run: FailedRun): boolean {
  if (conditions === null) return true;
  const lines = lazyLines(run);
  return conditions.some((condition) => matches(condition, run, lines));
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, sec: 1000, second: 1000, seconds: 1000, m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000, h: 3_600_000, hour: 3_600_000, hours: 3_600_000 };

/** A wait such as `120`, `2m`, `1.5 h` or `500ms` in milliseconds; a bare number is seconds. */
export function parseWait(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!match) return null;
  const unit = (match[2] ?? "").toLowerCase();
  const factor = unit === "" ? 1000 : UNIT_MS[unit];
  return factor === undefined ? null : Math.round(Number(match[1]) * factor);
}

/** The wait the failing step's output asks for, read by the workflow's retry_after pattern (last mention wins). */
export function requestedWait(workflow: ResolvedWorkflow, stepName: string, run: FailedRun): RequestedWait | null {
  const retryAfter = workflow.retryAfter;
  if (retryAfter === null) return null;
  const lines = matchedLines(run.stdout, run.stderr);
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = retryAfter.pattern.exec(lines[i] ?? "");
    const captured = match?.slice(1).find((group) => group !== undefined);
    if (captured === undefined) continue;
    const ms = parseWait(captured);
    if (ms !== null) return { ms, source: `"${(match?.[0] ?? "").slice(0, 80)}" in the output of step "${stepName}"` };
  }
  return null;
}
