/**
 * Breaker names become file names in a cache volume and keys in Redis, so they are kept to a
 * small, portable alphabet: a letter or digit first, then letters, digits, `.`, `_` or `-`.
 */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const MAX_NAME_LENGTH = 64;

export class InvalidNameError extends Error {
  override name = "InvalidNameError";
}

/** Returns the name unchanged, or throws an error that says what is wrong and how to fix it. */
export function validateBreakerName(name: string, what = "breaker name"): string {
  const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}...` : name);
  if (name.length === 0) {
    throw new InvalidNameError(`${what} is empty: give a name such as "deploy-prod"`);
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw new InvalidNameError(
      `${what} ${shown} is ${name.length} characters long: use at most ${MAX_NAME_LENGTH}`,
    );
  }
  if (!NAME_PATTERN.test(name)) {
    throw new InvalidNameError(
      `${what} ${shown} has characters that are not allowed: start with a letter or digit and use only letters, digits, ".", "_" and "-"`,
    );
  }
  return name;
}
