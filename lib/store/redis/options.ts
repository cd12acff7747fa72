import type { ClusterOptions, RedisOptions } from "ioredis";
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

export interface HostPort {
  host: string;
  port: number;
}

/**
 * Where Redis is: one server by URL (`redis://` or `rediss://` for TLS) or host and port; a
 * primary found through Sentinels (ioredis asks them for the primary's address, and again
 * after a failover); or a Cluster, found from any of its nodes.
 */
export type RedisAddress =
  | { url: string }
  | { host: string; port?: number }
  | {
      sentinels: HostPort[];
      /** The name the Sentinels monitor the primary under (`sentinel monitor NAME ...`). */
      masterName: string;
      /** The Sentinels' own password (`requirepass` in sentinel.conf). Never shown in messages. */
      sentinelPassword?: string;
    }
  | { clusterNodes: HostPort[] };

export type Topology = "single" | "sentinel" | "cluster";

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
  /**
   * Replicas that must acknowledge each write (`WAIT`) before it counts as done; 0 or unset:
   * the primary's acknowledgement is enough, and a failover may lose the latest writes.
   */
  minReplicas?: number;
  /**
   * Sentinel and Cluster only: how long a request waits for a primary (a failover to finish)
   * before the failure policy applies. Each command still gives up after `timeoutMs`.
   */
  failoverTimeoutMs?: number;
};

export const DEFAULT_PREFIX = "circuit-breaker:";
export const DEFAULT_TIMEOUT_MS = 2000;
export const DEFAULT_MAX_ATTEMPTS = 64;
/**
 * A default Sentinel failover: the primary is judged down after 30 s (down-after-milliseconds),
 * then a leader is elected and a replica promoted in a few seconds; a Cluster's takes its
 * cluster-node-timeout (15 s) and an election. A minute covers either with room to spare.
 */
export const DEFAULT_FAILOVER_TIMEOUT_MS = 60_000;
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
  topology: Topology;
  /** 0: writes are not waited on. */
  minReplicas: number;
  /** Sentinel and Cluster: how long a request waits for a primary; null for a single server. */
  failoverTimeoutMs: number | null;
}

export function topologyOf(options: RedisAddress): Topology {
  return "sentinels" in options ? "sentinel" : "clusterNodes" in options ? "cluster" : "single";
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
  const minReplicas = options.minReplicas ?? 0;
  if (!Number.isInteger(minReplicas) || minReplicas < 0) {
    throw new Error(`Redis store minReplicas must be a whole number >= 0, got ${minReplicas}`);
  }
  const topology = topologyOf(options);
  let failoverTimeoutMs: number | null = null;
  if (topology === "single") {
    if (options.failoverTimeoutMs !== undefined) {
      throw new Error("Redis store failoverTimeoutMs applies only to Sentinel or Cluster: one server has no failover to wait for");
    }
  } else {
    failoverTimeoutMs = options.failoverTimeoutMs ?? DEFAULT_FAILOVER_TIMEOUT_MS;
    if (!Number.isFinite(failoverTimeoutMs) || failoverTimeoutMs <= 0) {
      throw new Error(`Redis store failoverTimeoutMs must be a positive number of milliseconds, got ${failoverTimeoutMs}`);
    }
  }
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  if (topology === "cluster" && (prefix === "" || /[{}]/.test(prefix))) {
    // The prefix becomes the hash tag that keeps every key of one installation in one slot.
    throw new Error(`Redis store prefix must be non-empty and without { or } for a Cluster, got ${JSON.stringify(prefix)}`);
  }
  return {
    prefix,
    timeoutMs,
    failurePolicy,
    maxAttempts,
    keyTtlSeconds,
    address: describeAddress(options),
    topology,
    minReplicas,
    failoverTimeoutMs,
  };
}

function describeAddress(options: RedisStoreOptions): string {
  const list = (nodes: HostPort[]) => nodes.map((n) => `${n.host.includes(":") ? `[${n.host}]` : n.host}:${n.port}`).join(",");
  if ("sentinels" in options) {
    if (options.sentinels.length === 0) throw new Error("Redis store sentinels must name at least one Sentinel");
    if (options.masterName === "") throw new Error("Redis store masterName must not be empty");
    return `${options.tls ? "rediss" : "redis"}-sentinel://${list(options.sentinels)}/${options.masterName}`;
  }
  if ("clusterNodes" in options) {
    if (options.clusterNodes.length === 0) throw new Error("Redis store clusterNodes must name at least one node");
    return `${options.tls ? "rediss" : "redis"}-cluster://${list(options.clusterNodes)}`;
  }
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
  const common: RedisOptions = { ...nodeOptions(options, resolved), enableOfflineQueue: false, retryStrategy: (times) => Math.min(50 * times, 1000) };
  const tls = options.tls ? { tls: {} } : {};
  if ("url" in options) return { ...common, ...tls };
  if ("clusterNodes" in options) throw new Error("a Cluster takes clusterOptions, not ioredisOptions");
  if ("sentinels" in options) {
    return {
      ...common,
      ...tls,
      sentinels: options.sentinels,
      name: options.masterName,
      // Connected to a node that is no longer the primary: look it up again.
      role: "master",
      ...(options.sentinelPassword === undefined ? {} : { sentinelPassword: options.sentinelPassword }),
      ...(options.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
      sentinelCommandTimeout: resolved.timeoutMs,
      sentinelRetryStrategy: (times) => Math.min(50 * times, 1000),
      // A demoted primary refuses writes with READONLY: reconnect (through the Sentinels) without
      // resending the refused command; the store retries the whole request.
      reconnectOnError: (error) => error.message.startsWith("READONLY"),
    };
  }
  return { ...common, ...tls, host: options.host, port: options.port ?? DEFAULT_PORT };
}

/** The settings of one node's connection, shared by every topology (a Cluster sets its own offline queue and retries). */
function nodeOptions(options: RedisStoreOptions, resolved: ResolvedOptions): RedisOptions & { commandTimeout: number } {
  const commandTimeout = Math.min(resolved.timeoutMs, resolved.failoverTimeoutMs ?? Infinity);
  return {
    lazyConnect: true,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    commandTimeout,
    connectTimeout: commandTimeout,
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
    ...(options.db === undefined ? {} : { db: options.db }),
  };
}

/**
 * The Cluster client: the same per-node settings, primaries only (a replica may be behind), and
 * redirections followed while a failover moves slots. Requests are not queued while the client
 * (re)learns the slots; the store waits for it to be ready instead.
 */
export function clusterOptions(options: RedisStoreOptions, resolved: ResolvedOptions): ClusterOptions {
  const node = nodeOptions(options, resolved);
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    scaleReads: "master",
    maxRedirections: 16,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: node.commandTimeout,
    clusterRetryStrategy: (times) => Math.min(50 * times, 1000),
    redisOptions: { ...node, ...(options.tls ? { tls: {} } : {}) },
  };
}
