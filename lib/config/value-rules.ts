/**
 * Wording shared by config validation and call-argument validation, so a bad value reads the
 * same whether it came from dagger.yaml or from a command-line flag.
 */

/** A value as a person would recognise it in their YAML or on their command line. */
export function showValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "an empty value (null)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

export const requirement = {
  wholeNumberAtLeast: (min: number) => `a whole number >= ${min}`,
  wholeNumberBetween: (min: number, max: number) => `a whole number from ${min} to ${max}`,
  positiveSeconds: "a number of seconds > 0",
  nonNegativeSeconds: "a number of seconds >= 0",
  rate: "a fraction > 0 and <= 1 (0.5 means 50%)",
  fraction: "a fraction from 0 to 1",
  multiplier: "a number >= 1 (1 keeps the open time fixed)",
  boolean: "true or false",
} as const;

export function isWholeNumber(value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

export function isPositiveSeconds(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value > 0;
}

/** Environment variable names, also used for secret names since secrets are exposed as env vars. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function envNameProblem(name: string, what = "env var name"): string | undefined {
  if (ENV_NAME_PATTERN.test(name)) return undefined;
  const fixed = name.replace(/[^A-Za-z0-9_]/g, "_").replace(/^([0-9])/, "_$1") || "MY_VAR";
  return `${what} ${JSON.stringify(name)} is not allowed: start with a letter or "_" and use only letters, digits and "_", e.g. ${JSON.stringify(fixed)}`;
}
