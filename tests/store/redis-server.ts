import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A throwaway redis-server for tests: loopback only, a free port, nothing persisted, its own
 * temporary directory. It can be killed, frozen and restarted on the same port, which is
 * what the hostile tests need.
 */

export const REDIS_SERVER = "/usr/bin/redis-server";

export function requireRedisServer(): void {
  if (!existsSync(REDIS_SERVER)) {
    throw new Error(
      `${REDIS_SERVER} is missing: the Redis store tests start their own Redis server. ` +
        "Install it with `apt-get install redis-server` (Debian/Ubuntu) and run the tests again.",
    );
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when the server answers PING (with or without a password), within `ms`. */
async function answers(port: number, password: string | undefined, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let data = "";
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(ms, () => finish(false));
    socket.once("error", () => finish(false));
    socket.on("data", (chunk) => {
      data += chunk.toString();
      if (data.includes("+PONG")) finish(true);
      else if (data.includes("-")) finish(false);
    });
    socket.connect(port, "127.0.0.1", () => {
      socket.write(password === undefined ? "PING\r\n" : `AUTH ${password}\r\nPING\r\n`);
    });
  });
}

export class RedisServer {
  private process: ChildProcess | null = null;
  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly password: string | undefined,
    /** More redis-server arguments (replication, cluster mode), kept for restarts. */
    private extraArgs: string[],
  ) {}

  static async start(options: { password?: string; args?: string[] } = {}): Promise<RedisServer> {
    requireRedisServer();
    const dir = mkdtempSync(join(tmpdir(), "cb-redis-"));
    // Another process may take the port between the probe and the server's bind: try again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const server = new RedisServer(await freePort(), dir, options.password, options.args ?? []);
      if (await server.launch()) return server;
    }
    throw new Error("could not start redis-server on a free port after 5 attempts");
  }

  /**
   * Starts the server process (again) on this port; false if it did not come up. `args`
   * replace the extra arguments given at start, e.g. to bring a killed primary back as a replica.
   */
  async launch(args: string[] = this.extraArgs): Promise<boolean> {
    this.extraArgs = args;
    const argv = ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", this.dir, ...args];
    if (this.password !== undefined) argv.push("--requirepass", this.password);
    const child = spawn(REDIS_SERVER, argv, { stdio: "ignore" });
    this.process = child;
    let exited = false;
    child.once("exit", () => {
      exited = true;
    });
    const until = Date.now() + 5000;
    while (Date.now() < until && !exited) {
      if (await answers(this.port, this.password, 200)) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    this.kill();
    return false;
  }

  get running(): boolean {
    return this.process !== null;
  }

  get pid(): number {
    const pid = this.process?.pid;
    if (pid === undefined) throw new Error("redis-server is not running");
    return pid;
  }

  /** Kills the server at once, as a crash or a lost machine would. */
  kill(): void {
    const child = this.process;
    this.process = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGCONT");
      child.kill("SIGKILL");
    }
  }

  /** Waits for a killed server to be gone, so its port can be bound again. */
  async killAndWait(): Promise<void> {
    const child = this.process;
    if (!child) return;
    const gone = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once("exit", () => resolve());
    });
    this.kill();
    await gone;
  }

  /** Freezes the server: connections stay open, nothing is answered. */
  freeze(): void {
    process.kill(this.pid, "SIGSTOP");
  }

  thaw(): void {
    process.kill(this.pid, "SIGCONT");
  }

  async stop(): Promise<void> {
    await this.killAndWait();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
