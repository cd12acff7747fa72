/**
 * The breaker one workflow call uses: `--breaker` as given, else the workflow's `breaker:` with
 * its `${NAME}` placeholders filled from the call's params, then from the workflow's env (the
 * precedence the steps see). Everything here is decided before the breaker is asked, so a
 * mistake never creates a breaker or counts against one.
 */
import { MAX_NAME_LENGTH, validateBreakerName } from "../core/names.js";
import { CallerError } from "../protection/errors.js";
import { breakerTemplateProblem, fillTemplate, isTemplate, parseTemplate, type TemplatePart } from "./breaker-template.js";
import { ConfigError, formatPath } from "./config-error.js";
import { locateInSource } from "./config-source.js";
import type { Config, WorkflowConfig } from "./schema.js";
import type { PathProblem } from "./zod-issues.js";

export interface ChosenBreaker {
  /** The breaker's name, placeholders filled. */
  name: string;
  /** What `probes:` is keyed by for this call: the breaker as written in the config, or the override. */
  probeKey: string;
}

/** Values longer than this are cut in messages: enough to recognise, short enough to read. */
const SHOWN_VALUE_LENGTH = 40;

interface Filled {
  name: string;
  value: string;
  from: "--params" | "the workflow's env";
}

export function chooseBreaker(
  config: Config,
  workflowName: string,
  workflow: WorkflowConfig,
  override: string | null,
  params: Readonly<Record<string, string>>,
): ChosenBreaker {
  if (override !== null) return { name: override, probeKey: override };
  const template = workflow.breaker ?? workflowName;
  if (!isTemplate(template)) return { name: template, probeKey: template };

  const where = `workflow ${JSON.stringify(workflowName)}: breaker ${JSON.stringify(template)}`;
  const parts = parseTemplate(template).parts;
  // parseConfig has checked the template; a config built in code may not have been.
  if (parts === undefined) throw new CallerError(`${where}: ${breakerTemplateProblem(template) ?? "malformed"}`);

  const env = workflow.env ?? {};
  const filled: Filled[] = [];
  const missing: string[] = [];
  for (const name of variablesOf(parts)) {
    if (Object.hasOwn(params, name)) filled.push({ name, value: params[name] as string, from: "--params" });
    else if (Object.hasOwn(env, name)) filled.push({ name, value: env[name] as string, from: "the workflow's env" });
    else missing.push(name);
  }
  if (missing.length > 0) throw missingVariables(config, workflowName, template, missing);

  const name = fillTemplate(parts, Object.fromEntries(filled.map((f) => [f.name, f.value])));
  const problem = valueProblem(parts, filled, name);
  if (problem !== undefined) throw new CallerError(`${where} cannot be filled: ${problem}`);
  return { name, probeKey: template };
}

function variablesOf(parts: readonly TemplatePart[]): string[] {
  return [...new Set(parts.flatMap((part) => (part.kind === "variable" ? [part.name] : [])))];
}

/** A located config error: the `breaker:` key, the workflow, the variables and how to supply them. */
function missingVariables(config: Config, workflowName: string, template: string, missing: string[]): Error {
  const them = missing.length === 1 ? "it" : "them";
  const problem: PathProblem = {
    path: ["workflows", workflowName, "breaker"],
    target: "key",
    message:
      `workflow ${JSON.stringify(workflowName)} uses breaker ${JSON.stringify(template)}, but ${missing.join(", ")} ` +
      `${missing.length === 1 ? "is" : "are"} neither a --params entry nor in the workflow's env: ` +
      `pass ${missing.map((name) => `--params ${name}=...`).join(" ")} or set ${them} in the workflow's env`,
  };
  const located = locateInSource(config, problem);
  return located === null ? new CallerError(`${formatPath(problem.path)}: ${problem.message}`) : new ConfigError([located]);
}

/** Why the filled name is not a breaker name, told by the variable whose value made it so. */
function valueProblem(parts: readonly TemplatePart[], filled: readonly Filled[], name: string): string | undefined {
  for (const f of filled) {
    if (f.value === "") {
      return `${f.name} (from ${f.from}) is empty: a per-key breaker needs a value for its key`;
    }
    const bad = [...new Set([...f.value].filter((char) => !/[A-Za-z0-9._-]/.test(char)))];
    if (bad.length > 0) {
      const shownBad = bad.slice(0, 5).map((char) => JSON.stringify(char)).join(", ");
      return `${f.name} (from ${f.from}) is ${shown(f.value)}, which has characters a breaker name cannot hold (${shownBad}): use only letters, digits, ".", "_" and "-" in the value, or name the breaker with --breaker`;
    }
  }
  try {
    validateBreakerName(name);
    return undefined;
  } catch (error) {
    if (name.length > MAX_NAME_LENGTH) {
      const lengths = filled.map((f) => `${f.name} (from ${f.from}) has ${f.value.length}`).join(", ");
      return `the name would be ${name.length} characters long, at most ${MAX_NAME_LENGTH}: shorten the values (${lengths})`;
    }
    const first = parts[0];
    const leading = first?.kind === "variable" ? filled.find((f) => f.name === first.name) : undefined;
    if (leading !== undefined) {
      return `${leading.name} (from ${leading.from}) is ${shown(leading.value)}, which starts the breaker name with ${JSON.stringify(leading.value[0])}: start the value with a letter or digit`;
    }
    return error instanceof Error ? error.message : String(error);
  }
}

function shown(value: string): string {
  return JSON.stringify(value.length > SHOWN_VALUE_LENGTH ? `${value.slice(0, SHOWN_VALUE_LENGTH)}...` : value);
}
