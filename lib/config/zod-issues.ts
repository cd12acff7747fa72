/**
 * Turns zod's issues into located config problems with messages written for the person
 * editing the file.
 */
import { z } from "zod";
import type { ConfigPath } from "./config-error.js";
import { didYouMean } from "./suggest.js";
import type { LocationTarget } from "./yaml-locator.js";

/** A problem before it is given a line and column. */
export interface PathProblem {
  path: ConfigPath;
  /** The spot in the source to report; see LocationTarget. */
  target: LocationTarget;
  message: string;
}

/** Hints for required keys, so "missing" errors say what to write. */
const MISSING_KEY_HINTS: Record<string, string> = {
  workflows: "add workflows: with at least one workflow",
  steps: "add steps: with at least one step",
  name: "add name: <step name>, e.g. build",
  image: 'add image: <container image>, e.g. "alpine:3.20"',
  command: 'add command: ["sh", "-c", "..."]',
};

export function problemsFromIssues(issues: readonly z.core.$ZodIssue[], input: unknown, schema: z.ZodType): PathProblem[] {
  return issues.flatMap((issue) => problemsFromIssue(issue, input, schema));
}

function problemsFromIssue(issue: z.core.$ZodIssue, input: unknown, schema: z.ZodType): PathProblem[] {
  const path = issue.path.map((segment) => (typeof segment === "symbol" ? String(segment) : segment));
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => ({
        path: [...path, key],
        target: "key",
        message: unknownKeyMessage(key, schemaAt(schema, path)),
      }));
    case "invalid_key":
      // A record key (workflow or env var name) failed its own check; its message is the useful one.
      return [{ path, target: "key", message: issue.issues[0]?.message ?? issue.message }];
    case "invalid_type": {
      const key = path[path.length - 1];
      if (key !== undefined && isMissing(input, path)) {
        const hint = MISSING_KEY_HINTS[String(key)] ?? `add ${String(key)}: <value>`;
        return [{ path: path.slice(0, -1), target: "value", message: `missing required key "${String(key)}": ${hint}` }];
      }
      return [{ path, target: "value", message: issue.message }];
    }
    default:
      return [{ path, target: "value", message: issue.message }];
  }
}

/** True when the parent of `path` is a map that lacks the last key, as opposed to holding a bad value. */
function isMissing(input: unknown, path: ConfigPath): boolean {
  let current: unknown = input;
  for (const segment of path.slice(0, -1)) {
    if (current === null || typeof current !== "object") return false;
    current = (current as Record<string | number, unknown>)[segment];
  }
  const key = path[path.length - 1];
  return (
    current !== null && typeof current === "object" && !Array.isArray(current) && key !== undefined && !(String(key) in current)
  );
}

function unknownKeyMessage(key: string, parent: z.ZodType | undefined): string {
  const shape = parent instanceof z.ZodObject ? (parent.shape as Record<string, z.ZodType>) : {};
  const known = Object.keys(shape);
  const suggestion = didYouMean(key, known);
  if (suggestion !== "") return `unknown key ${JSON.stringify(key)}${suggestion}`;
  // A setting written one level too high, e.g. failure_threshold directly under a workflow.
  for (const [section, sectionSchema] of Object.entries(shape)) {
    const inner = unwrap(sectionSchema);
    if (inner instanceof z.ZodObject && key in inner.shape) {
      return `unknown key ${JSON.stringify(key)} here: move it under ${section}:`;
    }
  }
  return `unknown key ${JSON.stringify(key)}: allowed keys are ${known.join(", ")}`;
}

/** The schema that validates the node at `path`. */
export function schemaAt(schema: z.ZodType, path: ConfigPath): z.ZodType | undefined {
  let current: z.ZodType | undefined = unwrap(schema);
  for (const segment of path) {
    if (current instanceof z.ZodObject && typeof segment === "string") {
      current = (current.shape as Record<string, z.ZodType>)[segment];
    } else if (current instanceof z.ZodRecord && typeof segment === "string") {
      current = current.valueType as z.ZodType;
    } else if (current instanceof z.ZodArray && typeof segment === "number") {
      current = current.element as z.ZodType;
    } else {
      return undefined;
    }
    current = current === undefined ? undefined : unwrap(current);
  }
  return current;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodNullable) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}
