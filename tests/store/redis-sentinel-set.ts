import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort, RedisServer } from "./redis-server.js";

/**
 * A throwaway Sentinel deployment for tests: a primary, one replica and three Sentinels, all on
 * free loopback ports with their own temporary directories. Sentinel is tuned for speed (a
 * primary is judged down after `downAfterMs`, 1 s by default, instead of 30 s), so a failover
 * takes a few seconds. Nothing is shared with other test files.
 */

export const REDIS_SENTINEL = "/usr/bin/redis-sentinel";

export function requireRedisSentinel(): void {
  if (!existsSync(REDIS_SENTINEL)) {
    throw new Error(
      `${REDIS_SENTINEL} is missing: the Sentinel tests start their own Sentinels. ` +
        "Install it with `apt-get install redis-sentinel` (Debian/Ubuntu) and run the tests again.",
    );
  }
}

export interface SentinelSetOptions {
  masterName?: string;
  /** Sentinel's down-after-milliseconds. */
  downAfterMs?: number;
  /** Sentinel's failover-timeout. */
  failoverTimeoutMs?: number;
}

/** Replication arguments that let a replica sync at once instead of after diskless sync's 5 s delay. */
export const FAST_SYNC = ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"];

class SentinelProcess {
  private process: ChildProcess | null = null;
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  start(): void {
    this.process = spawn(REDIS_SENTINEL, [join(this.dir, "sentinel.conf")], { stdio: "ignore" });
  }

  async stop(): Promise<void> {
    const child = this.process;
    this.process = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await gone;
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One short-lived connection for a command of the test's own. */
export async function withClient<T>(port: number, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 500, commandTimeout: 1000, retryStrategy: () => null });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

export class SentinelSet {
  /** Every data node by port: the first primary and its replica, whichever role each has now. */
  readonly nodes: RedisServer[];
  private constructor(
    readonly masterName: string,
    first: RedisServer,
    second: RedisServer,
    private readonly sentinels: SentinelProcess[],
  ) {
    this.nodes = [first, second];
  }

  static async start(options: SentinelSetOptions = {}): Promise<SentinelSet> {
    requireRedisSentinel();
    const masterName = options.masterName ?? "cb-primary";
    const primary = await RedisServer.start({ args: FAST_SYNC });
    const replica = await RedisServer.start({ args: [...FAST_SYNC, "--replicaof", "127.0.0.1", String(primary.port)] });
    const sentinels: SentinelProcess[] = [];
    for (let i = 0; i < 3; i++) {
      const dir = mkdtempSync(join(tmpdir(), "cb-sentinel-"));
      const sentinel = new SentinelProcess(await freePort(), dir);
      writeFileSync(
        join(dir, "sentinel.conf"),
        [
          `port ${sentinel.port}`,
          "bind 127.0.0.1",
          `dir ${dir}`,
          `sentinel monitor ${masterName} 127.0.0.1 ${primary.port} 2`,
          `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${masterName} ${options.failoverTimeoutMs ?? 3000}`,
          `sentinel parallel-syncs ${masterName} 1`,
          "",
        ].join("\n"),
      );
      sentinel.start();
      sentinels.push(sentinel);
    }
    const set = new SentinelSet(masterName, primary, replica, sentinels);
    try {
      await set.waitUntilSettled(replica.port);
    } catch (e) {
      await set.stop();
      throw e;
    }
    return set;
  }

  get sentinelAddresses(): { host: string; port: number }[] {
    return this.sentinels.map((s) => ({ host: "127.0.0.1", port: s.port }));
  }

  /** `--redis-sentinels` as the CLI takes it. */
  get sentinelList(): string {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(",");
  }

  node(port: number): RedisServer {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no node on port ${port}`);
    return node;
  }

  /** The primary's port as a Sentinel reports it. */
  async primaryPort(sentinel = 0): Promise<number> {
    const port = this.sentinels[sentinel]!.port;
    const reply = await withClient(port, (r) => r.call("SENTINEL", "get-master-addr-by-name", this.masterName));
    if (!Array.isArray(reply) || typeof reply[1] !== "string") throw new Error(`unexpected Sentinel reply ${JSON.stringify(reply)}`);
    return Number(reply[1]);
  }

  /**
   * Waits until every Sentinel knows the replica on `replicaPort` as healthy and the other two
   * Sentinels, so that the next failover can be authorised at once.
   */
  async waitUntilSettled(replicaPort: number, timeoutMs = 15_000): Promise<void> {
    for (const sentinel of this.sentinels) {
      await until(
        `Sentinel ${sentinel.port} to know replica ${replicaPort} and 2 other Sentinels`,
        () =>
          withClient(sentinel.port, async (r) => {
            const replicas = (await r.call("SENTINEL", "replicas", this.masterName)) as string[][];
            const others = (await r.call("SENTINEL", "sentinels", this.masterName)) as unknown[];
            const ok = replicas.some((fields) => {
              const f = fieldsOf(fields);
              // Not s_down or disconnected: a replica Sentinel may promote. Its link status comes from
              // INFO, which Sentinel refreshes only every 10 s outside a failover; the node's own
              // INFO, checked by the caller, is the fresher word on that.
              return f.port === String(replicaPort) && f.flags === "slave";
            });
            return ok && others.length === 2 ? true : undefined;
          }),
        timeoutMs,
      );
    }
  }

  /** Waits until every Sentinel names a primary other than `oldPort`; returns its port. */
  async waitForFailover(oldPort: number, timeoutMs = 20_000): Promise<number> {
    return until(
      `a failover away from port ${oldPort}`,
      async () => {
        const ports = await Promise.all(this.sentinels.map((_, i) => this.primaryPort(i)));
        const first = ports[0];
        return first !== undefined && first !== oldPort && ports.every((p) => p === first) ? first : undefined;
      },
      timeoutMs,
    );
  }

  /**
   * Brings a killed node back as a replica of `primaryPort` and waits until it is in sync and
   * every Sentinel counts it, so that the deployment can fail over again.
   */
  async rejoinAsReplica(node: RedisServer, primaryPort: number): Promise<void> {
    if (!(await node.launch([...FAST_SYNC, "--replicaof", "127.0.0.1", String(primaryPort)]))) {
      throw new Error(`node ${node.port} did not come back`);
    }
    await until(
      `node ${node.port} to be in sync with ${primaryPort}`,
      () => withClient(node.port, async (r) => ((await r.info("replication")).includes("master_link_status:up") ? true : undefined)),
      15_000,
    );
    // A Sentinel reconnects to an instance it lost at most every 15 s; a reset makes it forget
    // its links and find the primary's replicas and the other Sentinels again at once.
    await Promise.all(this.sentinels.map((s) => withClient(s.port, (r) => r.call("SENTINEL", "RESET", this.masterName))));
    await this.waitUntilSettled(node.port);
  }

  async stop(): Promise<void> {
    await Promise.all(this.sentinels.map((s) => s.stop()));
    await Promise.all(this.nodes.map((n) => n.stop()));
    for (const s of this.sentinels) rmSync(s.dir, { recursive: true, force: true });
  }
}

/** Sentinel answers each instance as a flat list of field, value, field, value. */
function fieldsOf(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}
