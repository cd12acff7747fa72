import { Cluster, Redis } from "ioredis";
import { isAuthFailure } from "./errors.js";
import { clusterOptions, ioredisOptions, type RedisStoreOptions, type ResolvedOptions } from "./options.js";
import { defineScripts, type RedisClient } from "./commands.js";

/**
 * One ioredis client and the knowledge of whether it can take a command now: a connection to one
 * server, to the primary the Sentinels name (found again after a failover), or a Cluster client.
 * ioredis is configured to reject rather than queue while disconnected, so before each request
 * the store waits here, up to its deadline, for the client to be ready. The connection is opened
 * on first use, so constructing a store costs nothing and never fails on the network.
 */
export class RedisConnection {
  readonly redis: RedisClient;
  /** The last connection error, to explain a timeout ("ECONNREFUSED", "WRONGPASS ..."). */
  private lastError: Error | null = null;
  private closed = false;

  constructor(options: RedisStoreOptions, resolved: ResolvedOptions) {
    this.redis =
      "clusterNodes" in options
        ? new Cluster(options.clusterNodes, clusterOptions(options, resolved))
        : "url" in options
          ? new Redis(options.url, ioredisOptions(options, resolved))
          : new Redis(ioredisOptions(options, resolved));
    defineScripts(this.redis);
    // Without a listener ioredis prints every reconnection failure; the store reports them
    // through its own errors instead.
    this.redis.on("error", (e: Error) => {
      this.lastError = e;
    });
    this.redis.on("ready", () => {
      this.lastError = null;
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Why the connection is not ready, as best known. */
  get reason(): string | null {
    return this.lastError?.message ?? null;
  }

  /**
   * Resolves once a command can be sent; rejects at `deadline` (a `performance.now()` time)
   * with the last connection error, or at once when Redis refuses the credentials.
   */
  async ready(deadline: number): Promise<void> {
    const redis = this.redis;
    if (redis.status === "ready") return;
    if (this.lastError && isAuthFailure(this.lastError)) throw this.lastError;
    if (redis.status === "wait") redis.connect().catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(this.reason ?? `no connection within the timeout (status: ${redis.status})`)),
        Math.max(0, deadline - performance.now()),
      );
    });
    try {
      await Promise.race([this.whenReady(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** One wait for the connection shared by every request, so a crowd adds no listeners. */
  private waiting: Promise<void> | null = null;

  private whenReady(): Promise<void> {
    if (this.waiting) return this.waiting;
    const redis = this.redis;
    const waiting = new Promise<void>((resolve, reject) => {
      const done = (settle: () => void) => {
        redis.off("ready", onReady);
        redis.off("error", onError);
        redis.off("end", onEnd);
        this.waiting = null;
        settle();
      };
      const onReady = () => done(resolve);
      const onError = (e: Error) => {
        if (isAuthFailure(e)) done(() => reject(e));
      };
      const onEnd = () => done(() => reject(new Error("the connection was closed")));
      redis.on("ready", onReady);
      redis.on("error", onError);
      redis.on("end", onEnd);
    });
    waiting.catch(() => undefined);
    this.waiting = waiting;
    return waiting;
  }

  /**
   * Drops a connection that stopped answering and connects again: through the Sentinels, that
   * finds the primary anew, so a request does not keep waiting on a primary that froze and was
   * replaced. Only when ready: a client already reconnecting is left to it.
   */
  reconnect(): void {
    if (this.closed || this.redis.status !== "ready") return;
    this.redis.disconnect(true);
  }

  /** Drops the connection at once; commands in flight are rejected, nothing is retried. */
  close(): void {
    this.closed = true;
    this.redis.disconnect(false);
  }
}
