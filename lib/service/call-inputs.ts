import type { ResolvedWorkflow } from "../config/resolve-workflow.js";
import { CallerError } from "../protection/errors.js";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `KEY=VALUE` parameters from the caller, given to every step as env. */
export function parseParams(params: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of params) {
    const at = entry.indexOf("=");
    const key = at === -1 ? entry : entry.slice(0, at);
    if (at === -1 || !ENV_NAME.test(key)) {
      throw new CallerError(
        `--params entry ${JSON.stringify(entry.slice(0, 80))} is not KEY=VALUE with KEY a valid env name (letters, digits, _; not starting with a digit), e.g. --params VERSION=1.2.3`,
      );
    }
    env[key] = entry.slice(at + 1);
  }
  return env;
}

/**
 * Pairs `--secret-names` (given, or taken from the secrets' URIs) with `--secrets` and checks
 * that every secret a step needs is given, before the breaker is asked, so a missing secret
 * never counts as a failure.
 */
export function pairSecrets<S>(workflow: ResolvedWorkflow, names: string[], secrets: S[]): Map<string, S> {
  if (names.length !== secrets.length) {
    throw new CallerError(
      `--secret-names has ${names.length} name(s) but --secrets has ${secrets.length} secret(s): give one name per secret, in the same order`,
    );
  }
  const paired = new Map<string, S>();
  names.forEach((name, i) => {
    if (!ENV_NAME.test(name)) throw new CallerError(`--secret-names entry ${JSON.stringify(name)} is not a valid env name`);
    paired.set(name, secrets[i] as S);
  });
  for (const step of workflow.probe === null ? workflow.steps : [...workflow.steps, workflow.probe]) {
    for (const name of step.secrets) {
      if (!paired.has(name)) {
        throw new CallerError(
          `workflow "${workflow.name}" step "${step.name}" needs secret ${name}: pass it, e.g. --secrets env:${name} (when you give --secret-names, list ${name} there too, at the secret's position)`,
        );
      }
    }
  }
  return paired;
}
