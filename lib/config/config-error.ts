/**
 * The one error a config file produces: every problem found, each located in the file.
 */

export type ConfigPath = (string | number)[];

export interface ConfigProblem {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Keys and list indexes from the top of the file to the offending node; empty for the file itself. */
  path: ConfigPath;
  /** What is wrong and how to fix it. */
  message: string;
}

const BARE_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `workflows.deploy.steps[0].image`; keys that would read ambiguously are quoted: `workflows["v1.2"]`. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (BARE_KEY.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** `file:line:column: path: message`, the form editors and terminals turn into links. */
export function formatProblem(problem: ConfigProblem): string {
  const where = `${problem.file}:${problem.line}:${problem.column}`;
  const path = formatPath(problem.path);
  return path === "" ? `${where}: ${problem.message}` : `${where}: ${path}: ${problem.message}`;
}

export class ConfigError extends Error {
  override name = "ConfigError";
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    const sorted = [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
    super(sorted.map(formatProblem).join("\n"));
    this.problems = sorted;
  }
}
