/**
 * `--prefix` for status and metrics: with per-key breakers ("registry-${REGISTRY_HOST}") a store
 * holds many breakers, and a reader usually wants one family of them.
 */
import { validateBreakerName } from "../core/names.js";
import type { BreakerState } from "../core/state.js";
import type { StateProblem } from "../store/request.js";

/** Throws unless `prefix` could begin a breaker name: the same alphabet, first character and length. */
export function validateBreakerPrefix(prefix: string): string {
  if (prefix === "") throw new Error('--prefix is empty: give the start of breaker names, e.g. --prefix registry-, or omit it to see every breaker');
  return validateBreakerName(prefix, "--prefix");
}

/** The states and problems of the breakers whose name starts with `prefix`. */
export function withPrefix(
  found: { states: BreakerState[]; problems: StateProblem[] },
  prefix: string,
): { states: BreakerState[]; problems: StateProblem[] } {
  return {
    states: found.states.filter((state) => state.name.startsWith(prefix)),
    problems: found.problems.filter((problem) => problem.breaker.startsWith(prefix)),
  };
}

/** What status says when no breaker matches, with how many there are, so a typo is easy to tell from an empty store. */
export function noBreakerMatches(prefix: string, total: number, where: string): string {
  const others = total === 0 ? "there are no breakers yet" : `${total} other breaker(s) exist`;
  return `no breaker in ${where} has a name starting with ${JSON.stringify(prefix)} (${others}): check the prefix, or omit --prefix to see every breaker`;
}
