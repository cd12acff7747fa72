import type { RedisOptions } from "ioredis";
import { keyTtlProblem } from "./key-ttl.js";

/**
 * What to do when Redis cannot be reached (down, unreachable, or slower than `timeoutMs`).
 *
 * - `fail-closed` (the default): the request throws, so a protected call does not run.
 * - `fail-open`: `acquire` admits the call with an unrecorded permit and a warning, and
 *   `record`/`cancel` drop the outcome with a warning. Manual operations (`reset`, `trip`,
 *   `disable`) and reads still throw: an operator must learn that they did not happen.
 *
 * Why fail-closed by default: the breaker exists to stop runners from hammering a broken
 * service. With Redis down nobody knows whether the service is broken, and failing open turns
 * every runner loose on it at once, exactly when the protection may be needed; failing closed
 * stops deploys, but loudly, with an error that names Redis and the fix. Teams for whom
 * "deploys keep flowing" matters more can opt into fail-open.
 */
export type FailurePolicy = "fail-closed" | "fail-open";

/** Where Redis is: a URL (`redis://` or `rediss://` for TLS), or a host and port. */
export type RedisAddress = { url: string } | { host: string; port?: number };

export type RedisStoreOptions = RedisAddress & {
  username?: string;
  /** Overrides a password in the URL. Never shown in messages. */
  password?: string;
  /** Connect with TLS (implied by a `rediss://` URL). */
  tls?: boolean;
  /** Database number (a URL's path also selects one). */
  db?: number;
  /** Prepended to every key, so several installations can share one Redis. */
  prefix?: string;
  /** The longest any one request may take, from call to answer, retries included. */
  timeoutMs?: number;
  failurePolicy?: FailurePolicy;
  /** Compare-and-set attempts before a request gives up because others keep writing. */
  maxAttempts?: number;
  /**
   * Seconds after its last write that a breaker's key expires; unset: never. Must be far above
   * the longest open time (max_reset_timeout), or an open breaker could vanish while open.
   * Breakers tripped or disabled by hand are written without expiry. See key-ttl.ts.
   */
  keyTtlSeconds?: number;
};

export const DEFAULT_PREFIX = "circuit-breaker:";
export const DEFAULT_TIMEOUT_MS = 2000;
export const DEFAULT_MAX_ATTEMPTS = 64;
const DEFAULT_PORT = 6379;

/** Options with defaults filled in and checked. */
export interface ResolvedOptions {
  prefix: string;
  timeoutMs: number;
  failurePolicy: FailurePolicy;
  maxAttempts: number;
  /** null: keys never expire. */
  keyTtlSeconds: number | null;
  /** The address for messages, without credentials: `redis://host:port/db`. */
  address: string;
}

export function resolveOptions(options: RedisStoreOptions): ResolvedOptions {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new Error(`Redis store timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`);
  }
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new Error(`Redis store maxAttempts must be a whole number of at least 1, got ${maxAttempts}`);
  }
  const failurePolicy = options.failurePolicy ?? "fail-closed";
  if (failurePolicy !== "fail-closed" && failurePolicy !== "fail-open") {
    throw new Error(`Redis store failurePolicy must be "fail-closed" or "fail-open", got ${JSON.stringify(failurePolicy)}`);
  }
  const keyTtlSeconds = options.keyTtlSeconds ?? null;
  const ttlProblem = keyTtlSeconds === null ? null : keyTtlProblem(keyTtlSeconds, "Redis store keyTtlSeconds");
  if (ttlProblem !== null) throw new Error(ttlProblem);
  return {
    prefix: options.prefix ?? DEFAULT_PREFIX,
    timeoutMs,
    failurePolicy,
    maxAttempts,
    keyTtlSeconds,
    address: describeAddress(options),
  };
}

function describeAddress(options: RedisStoreOptions): string {
  if ("url" in options) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      // The text may hold a password, so it is not repeated.
      throw new Error("Redis store url is not a URL: give one such as redis://host:6379 or rediss://host:6380");
    }
    if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
      throw new Error(`Redis store url must start with redis:// or rediss://, not ${url.protocol}//`);
    }
    const scheme = options.tls ? "rediss:" : url.protocol;
    const db = options.db ?? (url.pathname.length > 1 ? url.pathname.slice(1) : "");
    return `${scheme}//${url.hostname}:${url.port || DEFAULT_PORT}${db === "" ? "" : `/${db}`}`;
  }
  const db = options.db === undefined ? "" : `/${options.db}`;
  return `${options.tls ? "rediss" : "redis"}://${options.host}:${options.port ?? DEFAULT_PORT}${db}`;
}

/**
 * The ioredis settings that make every request end within the timeout: no offline queue (a
 * command issued while disconnected fails at once instead of running minutes later), no resend
 * of unanswered commands after a reconnect (a compare-and-set the caller gave up on must not
 * land later), and a per-command timeout. The connection itself keeps reconnecting in the
 * background, so the store works again once Redis is back.
 */
export function ioredisOptions(options: RedisStoreOptions, resolved: ResolvedOptions): RedisOptions {
  const common: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    commandTimeout: resolved.timeoutMs,
    connectTimeout: resolved.timeoutMs,
    retryStrategy: (times) => Math.min(50 * times, 1000),
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
    ...(options.db === undefined ? {} : { db: options.db }),
  };
  const tls = options.tls ? { tls: {} } : {};
  if ("url" in options) return { ...common, ...tls };
  return { ...common, ...tls, host: options.host, port: options.port ?? DEFAULT_PORT };
}
