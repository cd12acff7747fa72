/**
 * Settings a caller passes as Dagger function arguments for one call. They win over the config
 * file, and are checked here because they never pass through the schema.
 */
import type { WorkflowCall } from "../../src/module-api.js";
import { validateBreakerName } from "../core/names.js";
import { isPositiveSeconds, isWholeNumber, requirement, showValue } from "./value-rules.js";

/** The override arguments as the module's face declares them, so the two cannot drift apart. */
export type CallOverrides = WorkflowCall["overrides"];

export class InvalidOverrideError extends Error {
  override name = "InvalidOverrideError";
  constructor(
    /** The argument as typed on the command line, e.g. `--failure-threshold`. */
    readonly argument: string,
    message: string,
  ) {
    super(message);
  }
}

/** `failureThreshold` -> `--failure-threshold`, the flag name the Dagger CLI shows. */
export function flagName(key: keyof CallOverrides): string {
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/**
 * Arguments left unset may arrive as undefined or, through GraphQL, as null; both mean "not given".
 */
export function isGiven<T>(value: T | null | undefined): value is T {
  return value !== undefined && value !== null;
}

/** Throws InvalidOverrideError for the first argument that is out of range. */
export function validateOverrides(overrides: CallOverrides): void {
  const fail = (key: keyof CallOverrides, what: string): never => {
    const flag = flagName(key);
    throw new InvalidOverrideError(flag, `${flag} must be ${what}, got ${showValue(overrides[key])}`);
  };
  const { breaker, useCircuitBreaker, caching, failureThreshold, resetTimeoutSeconds, halfOpenTimeoutSeconds, maxRetries } =
    overrides;
  if (isGiven(breaker)) {
    if (typeof breaker !== "string") fail("breaker", "a breaker name (a string)");
    try {
      validateBreakerName(breaker);
    } catch (error) {
      throw new InvalidOverrideError("--breaker", `--breaker: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (isGiven(useCircuitBreaker) && typeof useCircuitBreaker !== "boolean") fail("useCircuitBreaker", requirement.boolean);
  if (isGiven(caching) && typeof caching !== "boolean") fail("caching", requirement.boolean);
  if (isGiven(failureThreshold) && !isWholeNumber(failureThreshold, 1)) {
    fail("failureThreshold", requirement.wholeNumberAtLeast(1));
  }
  if (isGiven(resetTimeoutSeconds) && !isPositiveSeconds(resetTimeoutSeconds)) {
    fail("resetTimeoutSeconds", requirement.positiveSeconds);
  }
  if (isGiven(halfOpenTimeoutSeconds) && !isPositiveSeconds(halfOpenTimeoutSeconds)) {
    fail("halfOpenTimeoutSeconds", requirement.positiveSeconds);
  }
  if (isGiven(maxRetries) && !isWholeNumber(maxRetries, 0)) fail("maxRetries", requirement.wholeNumberAtLeast(0));
}
