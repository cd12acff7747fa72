// Runs one exec for real: bubblewrap with a fresh root made of read-only binds of the
// host's /usr, /bin, /lib*, /etc (the host stands in for the container image), the
// container's own files, its cache volumes bound read-write, and `flock` around it for
// every LOCKED/PRIVATE volume. No shell is involved anywhere: argv arrays all the way.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, lstatSync, readlinkSync } from "node:fs";

export interface SandboxBind {
  /** Host path. */
  src: string;
  /** Path inside the sandbox. */
  dest: string;
  readOnly: boolean;
}

export interface SandboxSpec {
  args: string[];
  /** The container's complete environment (including secret values: passed via the
   * process environment, never on a command line). */
  env: Record<string, string>;
  workdir: string;
  /** Top-level directories that make up the container's own root filesystem layer. */
  rootBinds: SandboxBind[];
  /** Top-level symlinks of the container's own files. */
  symlinks: { target: string; dest: string }[];
  /** Whether /tmp is one of rootBinds (else it is a fresh tmpfs). */
  tmpFromRoot: boolean;
  /** Workdirs and mount points to create inside the sandbox before binding. */
  dirs: string[];
  mounts: SandboxBind[];
  /** Lock files to hold (exclusively, in this order) for the whole exec. */
  locks: string[];
  stdin: string;
  timeoutMs?: number;
}

export interface SandboxResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

const SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"];
export const HOST_ROOT_DIRS = new Set(SYSTEM_DIRS.map((d) => d.slice(1)).concat(["dev", "proc"]));
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const MAX_OUTPUT = 32 * 1024 * 1024;

let checked: string | undefined;
const tools = { bwrap: "bwrap", flock: "flock" };

/** Absolute path of a tool on the double's own PATH (the container's PATH may differ). */
function which(name: string): string {
  for (const dir of (process.env["PATH"] ?? "/usr/bin:/bin").split(":")) {
    const p = `${dir || "."}/${name}`;
    if (existsSync(p)) return p;
  }
  return name;
}
const running = new Set<() => void>();

/** Kill every exec still running in this process (used by close()). */
export function killAllSandboxes(): void {
  for (const kill of running) kill();
  running.clear();
}

/** Fail early, with a clear message, when bubblewrap cannot create a sandbox here. */
export function checkSandbox(): void {
  if (checked === "ok") return;
  tools.bwrap = which("bwrap");
  tools.flock = which("flock");
  const r = spawnSync(tools.bwrap, [...baseArgs(), "--", "true"], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    throw new Error(
      `engine double: bubblewrap (bwrap) cannot create a sandbox on this machine: ${
        r.error ? r.error.message : r.stderr.trim() || `exit ${r.status}`
      }. Install it (apt-get install bubblewrap) and allow user namespaces, or run as root.`,
    );
  }
  const f = spawnSync(tools.flock, ["--version"], { encoding: "utf8" });
  if (f.error) throw new Error(`engine double: flock (util-linux) is required: ${f.error.message}`);
  checked = "ok";
}

function baseArgs(): string[] {
  const args = ["--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--hostname", "dagger-double"];
  for (const dir of SYSTEM_DIRS) {
    if (!existsSync(dir)) continue;
    const st = lstatSync(dir);
    if (st.isSymbolicLink()) args.push("--symlink", readlinkSync(dir), dir);
    else args.push("--ro-bind-try", dir, dir);
  }
  args.push("--dev", "/dev", "--proc", "/proc");
  return args;
}

export function runSandboxed(spec: SandboxSpec): Promise<SandboxResult> {
  const args = baseArgs();
  for (const b of spec.rootBinds) args.push(b.readOnly ? "--ro-bind" : "--bind", b.src, b.dest);
  for (const l of spec.symlinks) args.push("--symlink", l.target, l.dest);
  if (!spec.tmpFromRoot) args.push("--tmpfs", "/tmp");
  for (const d of spec.dirs) args.push("--dir", d);
  for (const m of spec.mounts) args.push(m.readOnly ? "--ro-bind" : "--bind", m.src, m.dest);
  args.push("--chdir", spec.workdir, "--json-status-fd", "3", "--", ...spec.args);

  // `flock FILE flock FILE2 ... bwrap ARGS`: each flock holds its lock while its child runs.
  let cmd = tools.bwrap;
  let argv = args;
  for (const lock of [...spec.locks].reverse()) {
    argv = [lock, cmd, ...argv];
    cmd = tools.flock;
  }
  const env = { ...spec.env };
  if (!("PATH" in env)) env.PATH = DEFAULT_PATH;

  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    // Own process group, so a timeout or close() can kill flock, bwrap and the command at once.
    const child = spawn(cmd, argv, { env, stdio: ["pipe", "pipe", "pipe", "pipe"], shell: false, detached: true });
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    running.add(killGroup);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let status = "";
    let outLen = 0;
    let errLen = 0;
    child.stdout!.on("data", (b: Buffer) => {
      if ((outLen += b.length) <= MAX_OUTPUT) out.push(b);
    });
    child.stderr!.on("data", (b: Buffer) => {
      if ((errLen += b.length) <= MAX_OUTPUT) err.push(b);
    });
    const statusPipe = child.stdio[3] as NodeJS.ReadableStream;
    statusPipe.on("data", (b: Buffer) => (status += b.toString("utf8")));
    statusPipe.on("error", () => undefined);
    child.stdin!.on("error", () => undefined);
    child.stdin!.end(spec.stdin);
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    if (spec.timeoutMs) {
      timer = setTimeout(() => {
        timedOut = true;
        killGroup();
      }, spec.timeoutMs);
    }
    child.on("error", (e) => {
      running.delete(killGroup);
      if (timer) clearTimeout(timer);
      reject(new Error(`engine double: cannot start the sandbox: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      running.delete(killGroup);
      if (timer) clearTimeout(timer);
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      const events = status
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => {
          try {
            return JSON.parse(l) as Record<string, number>;
          } catch {
            return {};
          }
        });
      const exit = events.find((e) => "exit-code" in e)?.["exit-code"];
      if (typeof exit !== "number") {
        if (timedOut) {
          resolvePromise({ exitCode: 137, stdout, stderr: `${stderr}\nengine double: killed after ${spec.timeoutMs} ms`, durationMs: Date.now() - started });
          return;
        }
        // bwrap reports an exit code only once the command itself ran.
        reject(new Error(`engine double: the exec could not start (bwrap exit ${code ?? signal}): ${stderr.trim()}`));
        return;
      }
      const exitCode = exit;
      resolvePromise({ exitCode, stdout, stderr, durationMs: Date.now() - started });
    });
  });
}
