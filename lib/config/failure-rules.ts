/**
 * Failure rules, retry conditions and Retry-After patterns from the config, compiled and
 * labelled with where they were written, so every classified outcome can name its rule.
 */
import { compilePattern } from "./output-pattern.js";
import type { FailureRuleConfig, RetryConditionConfig } from "./schema.js";

/** A condition on a failed step; every part that is given must hold. */
export interface FailureMatcher {
  exitCodes: number[] | null;
  output: RegExp | null;
}

export interface FailureRule extends FailureMatcher {
  counts: boolean;
  /** Where the rule is written, e.g. `step "deploy" failure_rules[0]`. */
  label: string;
}

export interface RetryAfterPattern {
  pattern: RegExp;
  /** The pattern as written, for messages. */
  source: string;
}

function matcher(config: RetryConditionConfig): FailureMatcher {
  return {
    exitCodes: config.exit_codes === undefined ? null : [...config.exit_codes],
    output: config.output === undefined ? null : compilePattern(config.output),
  };
}

export function resolveFailureRules(rules: FailureRuleConfig[] | undefined, owner: string): FailureRule[] {
  return (rules ?? []).map((rule, index) => ({
    ...matcher(rule),
    counts: rule.action === "count",
    label: `${owner} failure_rules[${index}] (${rule.action})`,
  }));
}

/** null: no condition given, so every failure may be retried. */
export function resolveRetryWhen(conditions: RetryConditionConfig[] | undefined): FailureMatcher[] | null {
  return conditions === undefined ? null : conditions.map(matcher);
}

export function resolveRetryAfter(source: string | undefined): RetryAfterPattern | null {
  return source === undefined ? null : { pattern: compilePattern(source), source };
}
