import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { RedisStoreOptions } from "../../lib/store/redis/index.js";
import type { Ledger } from "./failover-ledger.js";
import { bundleWorker } from "./bundle-worker.js";

/**
 * Racing writer processes (failover-worker.ts), started once and reused for several trials.
 * The worker is compiled once with esbuild and run by plain node: eight tsx start-ups cost
 * seconds on a 2-core machine.
 */
export class FailoverWriters {
  private constructor(
    private readonly dir: string,
    private readonly children: { child: ChildProcessWithoutNullStreams; next: () => Promise<string> }[],
  ) {}

  static async start(count: number): Promise<FailoverWriters> {
    const dir = mkdtempSync(join(tmpdir(), "cb-failover-"));
    const worker = join(dir, "failover-worker.mjs");
    await bundleWorker(fileURLToPath(new URL("./failover-worker.ts", import.meta.url)), worker);
    const children = Array.from({ length: count }, () => {
      const child = spawn(process.execPath, [worker], { stdio: ["pipe", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
      const lines: string[] = [];
      const waiters: ((line: string) => void)[] = [];
      createInterface({ input: child.stdout }).on("line", (line) => {
        const waiter = waiters.shift();
        if (waiter) waiter(line);
        else lines.push(line);
      });
      const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`failover worker exited (${code}): ${stderr}`))));
      exited.catch(() => undefined);
      const next = () => {
        const line = lines.shift();
        if (line !== undefined) return Promise.resolve(line);
        return Promise.race([new Promise<string>((resolve) => waiters.push(resolve)), exited]);
      };
      return { child, next };
    });
    const writers = new FailoverWriters(dir, children);
    await Promise.all(children.map((c) => c.next()));
    return writers;
  }

  /** Every writer starts recording failures on `breaker` through its own store. */
  start(options: RedisStoreOptions, breaker: string): void {
    for (const { child } of this.children) child.stdin.write(`${JSON.stringify({ start: { options, breaker } })}\n`);
  }

  /** Stops every writer and returns their ledgers. */
  async stop(): Promise<Ledger[]> {
    for (const { child } of this.children) child.stdin.write(`${JSON.stringify({ stop: true })}\n`);
    return Promise.all(this.children.map(async (c) => JSON.parse(await c.next()) as Ledger));
  }

  async close(): Promise<void> {
    await Promise.all(
      this.children.map(({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
        const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.stdin.end(`${JSON.stringify({ exit: true })}\n`);
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        return gone.finally(() => clearTimeout(timer));
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}
