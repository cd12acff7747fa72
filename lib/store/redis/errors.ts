/**
 * The ways a Redis request fails, each with a message that names Redis, the address (never the
 * password), and what to do. Which of them a fail-open store may swallow is decided by type:
 * only `RedisUnavailableError`, an outage; a wrong password is a mistake and always surfaces.
 */

export type RedisOperation = "acquire" | "record" | "cancel" | "reset" | "trip" | "disable" | "read" | "prune";

function subject(operation: RedisOperation, breaker: string | null): string {
  return breaker === null ? `${operation} of every breaker` : `${operation} on breaker "${breaker}"`;
}

/** Redis is down, unreachable, or did not answer in time. */
export class RedisUnavailableError extends Error {
  override name = "RedisUnavailableError";
  constructor(
    readonly address: string,
    readonly timeoutMs: number,
    readonly operation: RedisOperation,
    readonly breaker: string | null,
    readonly detail: string,
  ) {
    super(
      `the Redis state store at ${address} could not be used within ${timeoutMs} ms (${detail}), ` +
        `so ${subject(operation, breaker)} did not happen` +
        (operation === "acquire" ? " and the protected call was not run (failure policy: fail-closed)" : "") +
        `. Fix: check that Redis is up and reachable from this runner at ${address}, ` +
        `or raise timeoutMs if it is only slow` +
        (operation === "acquire" ? `, or set failurePolicy "fail-open" to run calls unprotected while Redis is down` : "") +
        ".",
    );
  }
}

/** Redis refused the credentials. */
export class RedisAuthError extends Error {
  override name = "RedisAuthError";
  constructor(
    readonly address: string,
    readonly detail: string,
  ) {
    super(
      `the Redis state store at ${address} refused the credentials (${detail}). ` +
        `Fix: give the Redis store the server's password (and username, if it uses ACL users).`,
    );
  }
}

/** Other runners kept changing the breaker for every attempt. */
export class RedisConflictError extends Error {
  override name = "RedisConflictError";
  constructor(
    readonly address: string,
    readonly breaker: string,
    readonly attempts: number,
  ) {
    super(
      `the Redis state store at ${address} gave up on breaker "${breaker}" after ${attempts} attempts: ` +
        `other runners changed it between every read and write, so nothing was written. ` +
        `Fix: retry; if it keeps happening, raise maxAttempts.`,
    );
  }
}

/** The store was closed and can no longer be used. */
export class RedisStoreClosedError extends Error {
  override name = "RedisStoreClosedError";
  constructor(address: string) {
    super(`the Redis state store at ${address} was closed; create a new store to use it again`);
  }
}

/** A command that did not get an answer from Redis: the connection failed, timed out or was refused. */
export class RedisCommandError extends Error {
  override name = "RedisCommandError";
  constructor(override readonly cause: unknown) {
    super(describeFailure(cause));
  }
}

/** True for Redis's own rejection of missing or wrong credentials. */
export function isAuthFailure(error: unknown): boolean {
  const message = error instanceof Error ? error.message : "";
  return /^(WRONGPASS|NOAUTH|NOPERM)\b/.test(message) || message.includes("invalid username-password pair");
}

/** A short, password-free description of what went wrong, for the messages above. */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const message = error.message.replace(/\s+/g, " ").trim();
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
