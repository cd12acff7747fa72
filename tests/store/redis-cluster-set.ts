import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { RedisServer } from "./redis-server.js";
import { FAST_SYNC, withClient } from "./redis-sentinel-set.js";

/**
 * A throwaway Redis Cluster for tests: three primaries with one replica each, made with
 * `redis-cli --cluster create` on free loopback ports, each node with its own temporary
 * directory (its nodes.conf survives a kill, so a killed node rejoins as itself). Tuned for
 * speed: a primary is judged failed after `nodeTimeoutMs` (1 s by default instead of 15 s), and
 * any replica may take over however long it was cut off.
 */

export const REDIS_CLI = "/usr/bin/redis-cli";
const run = promisify(execFile);

export function requireRedisCli(): void {
  if (!existsSync(REDIS_CLI)) {
    throw new Error(
      `${REDIS_CLI} is missing: the Cluster tests create their cluster with redis-cli. ` +
        "Install it with `apt-get install redis-tools` (Debian/Ubuntu) and run the tests again.",
    );
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

interface NodeLine {
  id: string;
  port: number;
  primary: boolean;
  failed: boolean;
  /** The primary's id, for a replica. */
  primaryId: string | null;
  slots: [number, number][];
}

/** CLUSTER NODES, one line per node: id addr flags primary ping pong epoch link slots... */
function parseNodes(text: string): NodeLine[] {
  return text
    .trim()
    .split("\n")
    .map((line) => {
      const [id, addr, flags, primaryId, , , , , ...slots] = line.split(" ");
      const port = Number(addr!.split("@")[0]!.split(":")[1]);
      return {
        id: id!,
        port,
        primary: flags!.split(",").includes("master"),
        failed: flags!.includes("fail"),
        primaryId: primaryId === "-" ? null : primaryId!,
        slots: slots
          .filter((s) => !s.startsWith("["))
          .map((s) => {
            const [from, to] = s.split("-");
            return [Number(from), Number(to ?? from)] as [number, number];
          }),
      };
    });
}

export class RedisClusterSet {
  private constructor(readonly nodes: RedisServer[]) {}

  static async start(options: { nodeTimeoutMs?: number } = {}): Promise<RedisClusterSet> {
    requireRedisCli();
    const args = [
      ...FAST_SYNC,
      "--cluster-enabled", "yes",
      "--cluster-config-file", "nodes.conf",
      "--cluster-node-timeout", String(options.nodeTimeoutMs ?? 1000),
      "--cluster-replica-validity-factor", "0",
    ];
    const nodes = await Promise.all(Array.from({ length: 6 }, () => RedisServer.start({ args })));
    const set = new RedisClusterSet(nodes);
    try {
      await run(REDIS_CLI, ["--cluster", "create", ...nodes.map((n) => `127.0.0.1:${n.port}`), "--cluster-replicas", "1", "--cluster-yes"], {
        timeout: 30_000,
      });
      await set.waitUntilHealthy();
    } catch (e) {
      await set.stop();
      throw e;
    }
    return set;
  }

  /** `--redis-cluster-nodes` as the CLI takes it (every node; one would do as a seed). */
  get seedList(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(",");
  }

  get seeds(): { host: string; port: number }[] {
    return this.nodes.map((n) => ({ host: "127.0.0.1", port: n.port }));
  }

  node(port: number): RedisServer {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no node on port ${port}`);
    return node;
  }

  /** The cluster as a running node sees it. */
  private async view(): Promise<NodeLine[]> {
    const alive = this.nodes.find((n) => n.running);
    if (!alive) throw new Error("no node is running");
    return parseNodes(String(await withClient(alive.port, (r) => r.call("CLUSTER", "NODES"))));
  }

  async slotOf(key: string): Promise<number> {
    const alive = this.nodes.find((n) => n.running)!;
    return Number(await withClient(alive.port, (r) => r.call("CLUSTER", "KEYSLOT", key)));
  }

  /** The primary serving `slot` and its replica, as the cluster sees them now. */
  async shardOf(slot: number): Promise<{ primary: number; replica: number | null }> {
    const view = await this.view();
    const primary = view.find((n) => n.primary && !n.failed && n.slots.some(([a, b]) => slot >= a && slot <= b));
    if (!primary) throw new Error(`no primary serves slot ${slot}`);
    const replica = view.find((n) => n.primaryId === primary.id && !n.failed);
    return { primary: primary.port, replica: replica?.port ?? null };
  }

  /**
   * Waits until every running node says cluster_state:ok, knows a primary for all 16384 slots,
   * and (with every node running) knows a healthy replica of each primary.
   */
  async waitUntilHealthy(timeoutMs = 20_000): Promise<void> {
    const everyNode = this.nodes.every((n) => n.running);
    for (const node of this.nodes.filter((n) => n.running)) {
      await until(
        `node ${node.port} to see a healthy cluster`,
        () =>
          withClient(node.port, async (r) => {
            const info = String(await r.call("CLUSTER", "INFO"));
            if (!info.includes("cluster_state:ok") || !info.includes("cluster_slots_ok:16384")) return undefined;
            if (!everyNode) return true;
            const view = parseNodes(String(await r.call("CLUSTER", "NODES")));
            const primaries = view.filter((n) => n.primary && !n.failed && n.slots.length > 0);
            const covered = primaries.every((p) => view.some((n) => n.primaryId === p.id && !n.failed));
            return primaries.length === 3 && covered ? true : undefined;
          }),
        timeoutMs,
      );
    }
  }

  /** Waits until `slot` is served by a primary other than `oldPort`; returns its port. */
  async waitForPromotion(slot: number, oldPort: number, timeoutMs = 20_000): Promise<number> {
    return until(
      `a replica to take slot ${slot} over from ${oldPort}`,
      async () => {
        const { primary } = await this.shardOf(slot);
        if (primary === oldPort) return undefined;
        const role = await withClient(primary, (r) => r.call("ROLE"));
        return Array.isArray(role) && role[0] === "master" ? primary : undefined;
      },
      timeoutMs,
    );
  }

  /** Brings a killed node back; it rejoins as a replica of whoever took its slots, and syncs. */
  async rejoin(node: RedisServer): Promise<void> {
    if (!(await node.launch())) throw new Error(`node ${node.port} did not come back`);
    await until(
      `node ${node.port} to rejoin as an in-sync replica`,
      () => withClient(node.port, async (r) => ((await r.info("replication")).includes("master_link_status:up") ? true : undefined)),
      20_000,
    );
    await this.waitUntilHealthy();
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}
