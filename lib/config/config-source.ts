/**
 * Where a parsed config came from, kept so that a problem found later, at call time (a breaker
 * template variable the call does not supply), is located in the file like a parse error.
 *
 * Kept beside the config rather than in it, so `Config` stays the plain data zod returns.
 */
import type { ConfigProblem } from "./config-error.js";
import type { PathProblem } from "./zod-issues.js";

export type LocateProblem = (problem: PathProblem) => ConfigProblem;

const sources = new WeakMap<object, LocateProblem>();

/** Called by parseConfig for every config it returns. */
export function rememberSource(config: object, locate: LocateProblem): void {
  sources.set(config, locate);
}

/** The problem with file, line and column; null for a config that parseConfig did not make (built in code). */
export function locateInSource(config: object, problem: PathProblem): ConfigProblem | null {
  return sources.get(config)?.(problem) ?? null;
}
