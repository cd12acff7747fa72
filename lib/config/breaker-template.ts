/**
 * Templated breaker names: `breaker: "registry-${REGISTRY_HOST}"` gives every value of a call's
 * REGISTRY_HOST its own breaker (a per-key breaker), so one failing registry does not open the
 * breaker of the others.
 *
 * Only `${NAME}` is a placeholder, NAME an env var name. There is no escape for a literal `$`:
 * a breaker name cannot contain `$` (lib/core/names.ts), so every `$` must start a placeholder.
 */
import { MAX_NAME_LENGTH, validateBreakerName } from "../core/names.js";
import { envNameProblem } from "./value-rules.js";

export type TemplatePart = { kind: "text"; text: string } | { kind: "variable"; name: string };

export type ParsedTemplate = { parts: TemplatePart[]; problem?: undefined } | { parts?: undefined; problem: string };

/** What a placeholder stands for when a template is checked without a call: one plain character. */
const SAMPLE_VALUE = "x";

/** Characters a breaker name may hold; mirrors lib/core/names.ts. */
const NAME_CHARACTER = /[A-Za-z0-9._-]/;

/** For editors only (the JSON Schema): breakerTemplateProblem decides. tests/config keeps the two in step. */
export const TEMPLATE_PATTERN_FOR_EDITORS =
  "^(?:[A-Za-z0-9]|\\$\\{[A-Za-z_][A-Za-z0-9_]*\\})(?:[A-Za-z0-9._-]|\\$\\{[A-Za-z_][A-Za-z0-9_]*\\})*$";

export function isTemplate(text: string): boolean {
  return text.includes("$");
}

/** Splits a template into fixed text and placeholders, or says what is wrong with its placeholders. */
export function parseTemplate(template: string): ParsedTemplate {
  const parts: TemplatePart[] = [];
  let text = "";
  for (let at = 0; at < template.length; ) {
    const char = template[at] as string;
    if (char !== "$") {
      text += char;
      at += 1;
      continue;
    }
    if (template[at + 1] !== "{") {
      return {
        problem: `"$" at position ${at + 1} must start a \${NAME} placeholder, e.g. \${REGISTRY_HOST}: a breaker name cannot contain "$", so there is no literal "$"`,
      };
    }
    const close = template.indexOf("}", at + 2);
    if (close === -1) {
      return { problem: `placeholder ${JSON.stringify(template.slice(at, at + 40))} is not closed: end it with "}", e.g. \${REGISTRY_HOST}` };
    }
    const name = template.slice(at + 2, close);
    if (name === "") return { problem: `placeholder "\${}" names no variable: write \${NAME}, e.g. \${REGISTRY_HOST}` };
    const nameProblem = envNameProblem(name, "placeholder variable name");
    if (nameProblem !== undefined) return { problem: `placeholder ${JSON.stringify(`\${${name}}`)}: ${nameProblem}` };
    if (text !== "") parts.push({ kind: "text", text });
    text = "";
    parts.push({ kind: "variable", name });
    at = close + 1;
  }
  if (text !== "") parts.push({ kind: "text", text });
  return { parts };
}

/** The distinct variables a template uses, in order of first use; none for a malformed template. */
export function templateVariables(template: string): string[] {
  const names = (parseTemplate(template).parts ?? []).flatMap((part) => (part.kind === "variable" ? [part.name] : []));
  return [...new Set(names)];
}

/** Fills every placeholder from `values`; a variable it lacks is left to the caller to report. */
export function fillTemplate(parts: readonly TemplatePart[], values: Readonly<Record<string, string>>): string {
  return parts.map((part) => (part.kind === "text" ? part.text : (values[part.name] ?? ""))).join("");
}

/** A value for every placeholder, for checking that a workflow resolves without a call's params. */
export function sampleValues(template: string | undefined): Record<string, string> {
  return Object.fromEntries(templateVariables(template ?? "").map((name) => [name, SAMPLE_VALUE]));
}

/**
 * Why `template` can never be a breaker name, or undefined when it can. A template without
 * placeholders is held to the breaker-name rules as it is; one with placeholders must make a
 * valid name when each placeholder is a one-character value.
 */
export function breakerTemplateProblem(template: string): string | undefined {
  if (!isTemplate(template)) return nameProblem(template);
  const parsed = parseTemplate(template);
  if (parsed.problem !== undefined) return `breaker name ${JSON.stringify(template)}: ${parsed.problem}`;
  if (nameProblem(fillTemplate(parsed.parts, sampleValues(template))) === undefined) return undefined;
  return `breaker name ${JSON.stringify(template)} cannot become a valid breaker name whatever the values: ${fixedTextProblem(parsed.parts)}`;
}

function nameProblem(name: string): string | undefined {
  try {
    validateBreakerName(name);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Says which fixed part of a template breaks the name rules, in the template's own terms. */
function fixedTextProblem(parts: readonly TemplatePart[]): string {
  const fixed = parts.flatMap((part) => (part.kind === "text" ? [part.text] : [])).join("");
  const bad = [...new Set([...fixed].filter((char) => !NAME_CHARACTER.test(char)))];
  if (bad.length > 0) {
    return `the text outside placeholders has characters that are not allowed (${bad.map((c) => JSON.stringify(c)).join(", ")}): use only letters, digits, ".", "_" and "-"`;
  }
  const first = parts[0];
  if (first?.kind === "text" && !/^[A-Za-z0-9]/.test(first.text)) {
    return `it starts with ${JSON.stringify(first.text[0])}: start with a letter, a digit or a placeholder`;
  }
  const shortest = fixed.length + parts.filter((part) => part.kind === "variable").length;
  return `even with one-character values it is ${shortest} characters long: breaker names are at most ${MAX_NAME_LENGTH}; shorten the fixed text`;
}

/** True when some values of the placeholders make `template` equal `name`; for finding a breaker's workflow. */
export function templateMatches(template: string, name: string): boolean {
  if (!isTemplate(template)) return template === name;
  const parts = parseTemplate(template).parts;
  if (parts === undefined) return false;
  const source = parts.map((part) => (part.kind === "text" ? part.text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : "[A-Za-z0-9._-]+")).join("");
  return new RegExp(`^${source}$`).test(name);
}
