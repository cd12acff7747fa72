import safeRegex from "safe-regex2";

/**
 * Patterns over a step's output, as written in the config. They are JavaScript regular
 * expressions matched case-insensitively against one line at a time of a bounded tail of the
 * output, and patterns whose backtracking can grow exponentially (a repeated group that itself
 * repeats, such as `(a+)+`) are refused, so a hostile or unlucky log cannot stall a run.
 */

/** Lines of output (stdout, then stderr) that rules and Retry-After patterns look at: the last ones. */
export const MATCHED_LINES = 500;
/** Each matched line is cut to this many characters. */
export const MATCHED_LINE_LENGTH = 1000;

export function compilePattern(source: string): RegExp {
  return new RegExp(source, "i");
}

/** Why a pattern cannot be used, or undefined when it can. */
export function patternProblem(source: string, captureGroups: "any" | "at least one" = "any"): string | undefined {
  if (source === "") return "must be a regular expression, got an empty string";
  let compiled: RegExp;
  try {
    compiled = compilePattern(source);
  } catch (e) {
    return `is not a valid regular expression: ${(e as Error).message}`;
  }
  if (!safeRegex(compiled)) {
    return "can take exponential time on some output (a repeated group that itself repeats, such as (a+)+): rewrite it without nested repetition";
  }
  if (captureGroups === "at least one" && groupCount(source) < 1) {
    return 'needs a capture group around the wait, e.g. "Retry-After:\\\\s*(\\\\d+)"';
  }
  return undefined;
}

/** Number of capture groups: an alternative that matches the empty string exposes them all. */
function groupCount(source: string): number {
  return (new RegExp(`${source}|`).exec("")?.length ?? 1) - 1;
}

/** The lines a pattern is matched against: the last MATCHED_LINES of stdout then stderr, each cut short. */
export function matchedLines(stdout: string, stderr: string): string[] {
  const lines = `${stdout.trimEnd()}\n${stderr.trimEnd()}`.split("\n").filter((line) => line !== "");
  return lines.slice(-MATCHED_LINES).map((line) => line.slice(0, MATCHED_LINE_LENGTH));
}
