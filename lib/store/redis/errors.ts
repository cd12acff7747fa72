/**
 * The ways a Redis request fails, each with a message that names Redis, the address (never the
 * password), and what to do. Which of them a fail-open store may swallow is decided by type:
 * only `RedisUnavailableError`, an outage; a wrong password is a mistake and always surfaces.
 */

export type RedisOperation = "acquire" | "record" | "cancel" | "retry" | "reset" | "trip" | "disable" | "read" | "prune";

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
    /** Sentinel or Cluster: the request waited this long for a primary; null for a single server. */
    readonly failoverTimeoutMs: number | null = null,
  ) {
    const failClosed = operation === "acquire" ? " and the protected call was not run (failure policy: fail-closed)" : "";
    const failOpen = operation === "acquire" ? `, or set failurePolicy "fail-open" to run calls unprotected while Redis is down` : "";
    super(
      failoverTimeoutMs === null
        ? `the Redis state store at ${address} could not be used within ${timeoutMs} ms (${detail}), ` +
            `so ${subject(operation, breaker)} did not happen${failClosed}. ` +
            `Fix: check that Redis is up and reachable from this runner at ${address}, or raise timeoutMs if it is only slow${failOpen}.`
        : `the Redis state store at ${address} had no primary that answered within ${failoverTimeoutMs} ms (${detail}), ` +
            `so ${subject(operation, breaker)} did not happen${failClosed}. ` +
            "A failover of the primary did not finish in that time, or every node is down. " +
            `Fix: check that the nodes at ${address} are up and reachable from this runner and that one of them is a primary, ` +
            `or raise failoverTimeoutMs if a failover takes longer there${failOpen}.`,
    );
  }
}

/**
 * A write reached the primary but fewer replicas than `minReplicas` acknowledged it in time.
 * It counts as not done (the failure policy applies), because a failover now could lose it;
 * it may still be in the state, as a write whose answer was lost may be.
 */
export class RedisReplicationError extends RedisUnavailableError {
  override name = "RedisReplicationError";
  constructor(
    address: string,
    operation: RedisOperation,
    breaker: string,
    readonly acknowledged: number,
    readonly required: number,
    waitedMs: number,
  ) {
    const detail = `only ${acknowledged} of the ${required} replica(s) it needs acknowledged the write within ${waitedMs} ms`;
    super(address, waitedMs, operation, breaker, detail);
    this.message =
      `the Redis state store at ${address} wrote ${subject(operation, breaker)}, but ${detail}, so it counts as not done` +
      (operation === "acquire" ? " and the protected call was not run (failure policy: fail-closed)" : "") +
      ": a failover now could lose it. Fix: check that the primary's replicas are up and in sync (INFO replication; " +
      "after a failover the new primary has one replica fewer until the old one rejoins), or lower minReplicas" +
      (operation === "acquire" ? `, or set failurePolicy "fail-open" to run calls unprotected meanwhile` : "") +
      ".";
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
