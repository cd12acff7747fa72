// Evaluation of container operation chains, with an exec cache that behaves like the
// engine's: an exec's cache key is the whole chain up to and including it (image, env,
// secrets by HMAC, mounts by volume and path and sharing, file contents, workdir, args,
// expect...), never the contents of a mounted cache volume. A chain that already ran
// successfully is not run again, in this process or any other sharing the state dir.
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import { HOST_ROOT_DIRS, runSandboxed, type SandboxBind } from "./sandbox.js";
import { ensureParents, mergeAt, normaliseRel, removePath, StateDir, type Manifest } from "./store.js";
import { digestOf, randomHex } from "../util.js";
import type { ContainerOp, SecretRef, VolumeRef } from "./values.js";

const EXEC_CACHE_VERSION = 1;

export interface MountState {
  kind: "cache" | "dir" | "file" | "secret" | "temp";
  volume?: VolumeRef;
  sharing?: string;
  source?: string;
  manifest?: string;
  readOnly?: boolean;
  blob?: string;
  mode?: number;
  secret?: SecretRef;
}

export interface ExecResult {
  args: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ContainerState {
  image?: string;
  env: Map<string, string>;
  secretEnv: Map<string, SecretRef>;
  workdir: string;
  mounts: Map<string, MountState>;
  rootfs: Manifest;
  entrypoint: string[];
  defaultArgs: string[];
  user?: string;
  lastExec?: ExecResult;
}

interface CachedExec {
  key: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  rootfs: string;
  time: string;
  durationMs: number;
}

/** The error the engine returns for a failed exec (SDK: ExecError, via `_type: EXEC_ERROR`). */
export class ExecFailure extends Error {
  readonly extensions: Record<string, unknown>;
  constructor(args: string[], exitCode: number, stdout: string, stderr: string) {
    let msg = `process ${JSON.stringify(args.join(" "))} did not complete successfully: exit code: ${exitCode}`;
    if (stdout.trim()) msg += `\n\nStdout:\n${stdout.trim()}`;
    if (stderr.trim()) msg += `\n\nStderr:\n${stderr.trim()}`;
    super(msg);
    this.extensions = { _type: "EXEC_ERROR", cmd: args, exitCode, stdout: stdout.trim(), stderr: stderr.trim() };
  }
}

export interface EvalContext {
  /** Who asked, for the exec log: "client" or "Object.function". */
  caller: string;
}

export interface EngineOptions {
  execTimeoutMs?: number;
  /** Hide exec output from the double's stderr unless set. */
  verbose?: boolean;
}

export class Engine {
  readonly store: StateDir;
  /** Identifies this double process in the logs. */
  readonly callId = randomHex(6);
  private secrets = new Map<string, string>();
  private execMemo = new Map<string, Promise<CachedExec>>();
  private evalMemo = new Map<string, Promise<ContainerState>>();

  constructor(
    stateDir: string,
    readonly options: EngineOptions = {},
  ) {
    this.store = new StateDir(stateDir);
  }

  // ---- secrets ------------------------------------------------------------------------

  addSecret(name: string, plaintext: string): SecretRef {
    const handle = `${this.callId}-${randomHex(8)}`;
    this.secrets.set(handle, plaintext);
    return { name, handle, digest: this.store.secretDigest(name, plaintext) };
  }

  secretPlaintext(ref: SecretRef): string {
    const value = this.secrets.get(ref.handle);
    if (value === undefined) {
      throw new Error(`engine double: secret ${JSON.stringify(ref.name)} is not available in this session (secrets live only in the double process that created them)`);
    }
    return value;
  }

  // ---- container evaluation -----------------------------------------------------------

  /** Replay a chain; execs are served from the cache when their prefix already ran. */
  evaluate(ops: ContainerOp[], ctx: EvalContext): Promise<ContainerState> {
    const key = digestOf(normaliseOps(ops));
    let p = this.evalMemo.get(key);
    if (!p) {
      p = this.doEvaluate(ops, ctx);
      this.evalMemo.set(key, p);
      p.catch(() => this.evalMemo.delete(key));
    } else {
      // Replaying a chain already evaluated here: its execs are served from the cache.
      void p.then(
        () => this.logReplay(ops, ctx),
        () => undefined,
      );
    }
    return p;
  }

  private logReplay(ops: ContainerOp[], ctx: EvalContext): void {
    const state = blankState();
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op.op === "exec") {
        const cached = this.store.readJson<CachedExec>("exec-cache", `${execKey(ops.slice(0, i + 1))}.json`);
        this.logExec(state, op.args, ctx, true, cached?.exitCode ?? 0, 0);
      } else applyOp(state, op, this.store);
    }
  }

  private async doEvaluate(ops: ContainerOp[], ctx: EvalContext): Promise<ContainerState> {
    const state = blankState();
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op.op !== "exec") {
        applyOp(state, op, this.store);
        continue;
      }
      const key = execKey(ops.slice(0, i + 1));
      const result = await this.exec(key, state, op, ctx);
      state.rootfs = this.store.getManifest(result.rootfs);
      state.lastExec = { args: op.args, exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
    }
    return state;
  }

  private async exec(key: string, state: ContainerState, op: Extract<ContainerOp, { op: "exec" }>, ctx: EvalContext): Promise<CachedExec> {
    const args = execArgs(state, op);
    let p = this.execMemo.get(key);
    if (p) {
      const r = await p;
      this.logExec(state, args, ctx, true, r.exitCode, 0);
      return r;
    }
    const onDisk = this.store.readJson<CachedExec>("exec-cache", `${key}.json`);
    if (onDisk && existsSync(this.store.path("blobs", onDisk.rootfs.slice(0, 2), onDisk.rootfs))) {
      this.logExec(state, args, ctx, true, onDisk.exitCode, 0);
      this.execMemo.set(key, Promise.resolve(onDisk));
      return onDisk;
    }
    p = this.runExec(key, snapshotState(state), op, args, ctx);
    this.execMemo.set(key, p);
    try {
      return await p;
    } catch (e) {
      this.execMemo.delete(key); // failures are not cached
      throw e;
    }
  }

  private async runExec(
    key: string,
    state: ContainerState,
    op: Extract<ContainerOp, { op: "exec" }>,
    args: string[],
    ctx: EvalContext,
  ): Promise<CachedExec> {
    const tmp = this.store.path("tmp", `exec-${randomHex(8)}`);
    const root = join(tmp, "root");
    mkdirSync(root, { recursive: true });
    try {
      const workdir = posix.normalize(state.workdir || "/");
      const mountPaths = [...state.mounts.keys()];
      // The container's own files: every top-level directory it has is bound read-write.
      const tops = new Set<string>();
      for (const rel of Object.keys(state.rootfs)) tops.add(rel.split("/")[0]!);
      const workRel = normaliseRel(workdir);
      if (workRel && !HOST_ROOT_DIRS.has(workRel.split("/")[0]!)) tops.add(workRel.split("/")[0]!);
      for (const top of tops) {
        if (HOST_ROOT_DIRS.has(top)) {
          const offending = Object.keys(state.rootfs).find((p) => p.split("/")[0] === top);
          throw new Error(
            `engine double: cannot place /${offending ?? top} in the container: /${top} comes read-only from the host, which stands in for the image`,
          );
        }
      }
      this.store.materialise(state.rootfs, root);
      for (const top of tops) if (!existsSync(join(root, top))) mkdirSync(join(root, top));
      if (workRel && tops.has(workRel.split("/")[0]!)) mkdirSync(join(root, workRel), { recursive: true });
      // Top-level directories and files are bound read-write; top-level symlinks recreated.
      const rootBinds: SandboxBind[] = [];
      const symlinks: { target: string; dest: string }[] = [];
      for (const top of [...tops].sort()) {
        const st = lstatSync(join(root, top));
        if (st.isSymbolicLink()) symlinks.push({ target: readlinkSync(join(root, top)), dest: `/${top}` });
        else rootBinds.push({ src: join(root, top), dest: `/${top}`, readOnly: false });
      }

      const mounts: SandboxBind[] = [];
      const locks: string[] = [];
      let n = 0;
      for (const path of mountPaths.sort((a, b) => a.length - b.length)) {
        const m = state.mounts.get(path)!;
        const src = join(tmp, `mount-${n++}`);
        switch (m.kind) {
          case "cache": {
            const dir = this.store.volumeDir(m.volume!);
            if (m.source && readdirSync(dir).length === 0) this.store.materialise(this.store.getManifest(m.source), dir);
            mounts.push({ src: dir, dest: path, readOnly: false });
            if (m.sharing === "LOCKED" || m.sharing === "PRIVATE") locks.push(this.store.lockFile(m.volume!));
            break;
          }
          case "dir":
            mkdirSync(src);
            this.store.materialise(this.store.getManifest(m.manifest!), src);
            mounts.push({ src, dest: path, readOnly: !!m.readOnly });
            break;
          case "file":
            writeFileSync(src, this.store.getBlob(m.blob!));
            chmodSync(src, m.mode ?? 0o644);
            mounts.push({ src, dest: path, readOnly: false });
            break;
          case "secret":
            writeFileSync(src, this.secretPlaintext(m.secret!), { mode: m.mode ?? 0o400 });
            mounts.push({ src, dest: path, readOnly: true });
            break;
          case "temp":
            mkdirSync(src);
            mounts.push({ src, dest: path, readOnly: false });
            break;
        }
      }
      // Locks in a fixed order, so two execs locking the same volumes cannot deadlock.
      const lockOrder = [...new Set(locks)].sort();

      const env: Record<string, string> = {};
      for (const [k, v] of state.env) env[k] = v;
      for (const [k, ref] of state.secretEnv) env[k] = this.secretPlaintext(ref);
      const secretValues = [
        ...[...state.secretEnv.values()].map((r) => this.secretPlaintext(r)),
        ...[...state.mounts.values()].filter((m) => m.kind === "secret").map((m) => this.secretPlaintext(m.secret!)),
      ].filter((v) => v.length > 0);

      const raw = await runSandboxed({
        args,
        env,
        workdir,
        rootBinds,
        symlinks,
        tmpFromRoot: tops.has("tmp"),
        dirs: [],
        mounts,
        locks: lockOrder,
        stdin: op.stdin,
        timeoutMs: this.options.execTimeoutMs,
      });
      // Like the engine, secret values are scrubbed from the exec's output.
      const result = { ...raw, stdout: scrub(raw.stdout, secretValues), stderr: scrub(raw.stderr, secretValues) };
      if (this.options.verbose) {
        process.stderr.write(`[engine double] exec ${JSON.stringify(args)} -> ${result.exitCode}\n${result.stdout}${result.stderr}`);
      }
      this.logExec(state, args, ctx, false, result.exitCode, result.durationMs);

      const ok =
        op.expect === "ANY" ||
        (op.expect === "FAILURE" ? result.exitCode !== 0 : result.exitCode === 0);
      if (!ok) throw new ExecFailure(args, result.exitCode, result.stdout, result.stderr);

      // Capture what the exec left in the container's own directories (not in mounts).
      const exclude = new Set(mountPaths.map((p) => normaliseRel(p)));
      let rootfs: Manifest = {};
      for (const [p, e] of Object.entries(state.rootfs)) if (!tops.has(p.split("/")[0]!)) rootfs[p] = e;
      for (const top of tops) {
        const full = join(root, top);
        if (!existsSync(full) && !lstatSync(full, { throwIfNoEntry: false })) continue;
        const st = lstatSync(full);
        if (st.isSymbolicLink()) rootfs[top] = { k: "l", target: readlinkSync(full) };
        else if (st.isDirectory()) {
          rootfs[top] = { k: "d", m: st.mode & 0o777 };
          Object.assign(rootfs, this.store.capture(full, exclude, top));
        } else if (st.isFile()) rootfs[top] = { k: "f", d: this.store.putBlob(readFileSync(full)), m: st.mode & 0o777 };
      }
      for (const p of exclude) {
        // mount points bwrap created in our directories are not part of the container's files
        if (rootfs[p]?.k === "d" && !state.rootfs[p]) rootfs = removePath(rootfs, p);
      }
      let stdout = result.stdout;
      let stderr = result.stderr;
      if (op.redirectStdout) {
        rootfs = withFile(rootfs, op.redirectStdout, this.store.putBlob(stdout), 0o644);
        stdout = "";
      }
      if (op.redirectStderr) {
        rootfs = withFile(rootfs, op.redirectStderr, this.store.putBlob(stderr), 0o644);
        stderr = "";
      }
      const record: CachedExec = {
        key,
        exitCode: result.exitCode,
        stdout,
        stderr,
        rootfs: this.store.putManifest(rootfs),
        time: new Date().toISOString(),
        durationMs: result.durationMs,
      };
      this.store.writeJson(record, "exec-cache", `${key}.json`);
      return record;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  private logExec(state: ContainerState, args: string[], ctx: EvalContext, cached: boolean, exitCode: number, durationMs: number): void {
    const mounts = [...state.mounts.entries()].map(([path, m]) =>
      m.kind === "cache"
        ? { path, type: "cache", volume: m.volume!.key, namespace: m.volume!.namespace, sharing: m.sharing }
        : { path, type: m.kind },
    );
    this.store.appendLog("exec-log.jsonl", {
      time: new Date().toISOString(),
      callId: this.callId,
      pid: process.pid,
      caller: ctx.caller,
      args,
      image: state.image ?? null,
      workdir: state.workdir,
      env: [...state.env.keys()],
      secretEnv: [...state.secretEnv.keys()],
      mounts,
      cached,
      exitCode,
      durationMs,
    });
  }

  // ---- reading files out of a container ----------------------------------------------

  containerFile(state: ContainerState, path: string): { blob: string; mode: number; name: string } {
    const abs = posix.resolve(state.workdir || "/", path);
    const rel = normaliseRel(abs);
    const mounted = this.fromMounts(state, abs);
    if (mounted) {
      if (mounted.kind === "file") return { blob: mounted.blob, mode: mounted.mode, name: posix.basename(abs) };
      const e = mounted.manifest[mounted.rel];
      if (e?.k === "f") return { blob: e.d, mode: e.m, name: posix.basename(abs) };
      throw new Error(`engine double: ${abs}: no such file in the container`);
    }
    const e = state.rootfs[rel];
    if (e?.k === "f") return { blob: e.d, mode: e.m, name: posix.basename(abs) };
    if (!e && HOST_ROOT_DIRS.has(rel.split("/")[0]!) && existsSync(abs) && statSync(abs).isFile()) {
      return this.store.importHostFile(abs);
    }
    throw new Error(`engine double: ${abs}: no such file in the container`);
  }

  containerDirectory(state: ContainerState, path: string): string {
    const abs = posix.resolve(state.workdir || "/", path);
    const rel = normaliseRel(abs);
    const mounted = this.fromMounts(state, abs);
    if (mounted && mounted.kind === "dir") return this.store.putManifest(subTree(mounted.manifest, mounted.rel));
    if (rel === "" || state.rootfs[rel]?.k === "d") return this.store.putManifest(subTree(state.rootfs, rel));
    throw new Error(`engine double: ${abs}: no such directory in the container`);
  }

  private fromMounts(
    state: ContainerState,
    abs: string,
  ): { kind: "dir"; manifest: Manifest; rel: string } | { kind: "file"; blob: string; mode: number } | undefined {
    const paths = [...state.mounts.keys()].sort((a, b) => b.length - a.length);
    for (const p of paths) {
      if (abs !== p && !abs.startsWith(`${p}/`)) continue;
      const m = state.mounts.get(p)!;
      const rel = normaliseRel(abs.slice(p.length));
      if (m.kind === "dir") return { kind: "dir", manifest: this.store.getManifest(m.manifest!), rel };
      if (m.kind === "file" && rel === "") return { kind: "file", blob: m.blob!, mode: m.mode ?? 0o644 };
      if (m.kind === "cache") {
        const dir = this.store.volumeDir(m.volume!);
        const manifest = existsSync(dir) ? this.store.capture(dir) : {};
        return { kind: "dir", manifest, rel };
      }
      throw new Error(`engine double: reading ${abs} from a ${m.kind} mount is not implemented`);
    }
    return undefined;
  }
}

function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join("***");
  return out;
}

function subTree(manifest: Manifest, rel: string): Manifest {
  if (!rel) return { ...manifest };
  const out: Manifest = {};
  for (const [p, e] of Object.entries(manifest)) if (p.startsWith(`${rel}/`)) out[p.slice(rel.length + 1)] = e;
  return out;
}

function withFile(rootfs: Manifest, path: string, blob: string, mode: number): Manifest {
  const rel = normaliseRel(path);
  const out = removePath(rootfs, rel);
  ensureParents(out, rel);
  out[rel] = { k: "f", d: blob, m: mode };
  return out;
}

export function blankState(): ContainerState {
  return {
    env: new Map(),
    secretEnv: new Map(),
    workdir: "/",
    mounts: new Map(),
    rootfs: {},
    entrypoint: [],
    defaultArgs: [],
  };
}

function snapshotState(s: ContainerState): ContainerState {
  return { ...s, env: new Map(s.env), secretEnv: new Map(s.secretEnv), mounts: new Map(s.mounts), rootfs: { ...s.rootfs } };
}

/** What goes into an exec's cache key: the chain, with secrets identified by HMAC only. */
function normaliseOps(ops: ContainerOp[]): unknown[] {
  return ops.map((op) => {
    if (op.op === "secretEnv" || op.op === "mountSecret") return { ...op, secret: { name: op.secret.name, digest: op.secret.digest } };
    if (op.op === "cache") return { ...op, volume: { namespace: op.volume.namespace, key: op.volume.key } };
    return op;
  });
}

export function execKey(opsUpToExec: ContainerOp[]): string {
  return digestOf({ v: EXEC_CACHE_VERSION, ops: normaliseOps(opsUpToExec) });
}

function execArgs(state: ContainerState, op: Extract<ContainerOp, { op: "exec" }>): string[] {
  if (!op.useEntrypoint) return op.args;
  const args = op.args.length ? op.args : state.defaultArgs;
  return [...state.entrypoint, ...args];
}

export function expandVars(text: string, env: Map<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a: string | undefined, b: string | undefined) => env.get((a ?? b)!) ?? "");
}

export function applyOp(state: ContainerState, op: ContainerOp, store: StateDir): void {
  switch (op.op) {
    case "from":
      state.image = op.address;
      state.rootfs = {};
      state.lastExec = undefined;
      return;
    case "env":
      state.env.set(op.name, op.expand ? expandVars(op.value, state.env) : op.value);
      return;
    case "unsetEnv":
      state.env.delete(op.name);
      return;
    case "secretEnv":
      state.secretEnv.set(op.name, op.secret);
      return;
    case "unsetSecretEnv":
      state.secretEnv.delete(op.name);
      return;
    case "workdir":
      state.workdir = posix.resolve(state.workdir || "/", op.path);
      return;
    case "cache":
      state.mounts.set(op.path, { kind: "cache", volume: op.volume, sharing: op.sharing, source: op.source });
      return;
    case "mountDir":
      state.mounts.set(op.path, { kind: "dir", manifest: op.manifest, readOnly: op.readOnly });
      return;
    case "mountFile":
      state.mounts.set(op.path, { kind: "file", blob: op.blob, mode: op.mode });
      return;
    case "mountSecret":
      state.mounts.set(op.path, { kind: "secret", secret: op.secret, mode: op.mode });
      return;
    case "mountTemp":
      state.mounts.set(op.path, { kind: "temp" });
      return;
    case "unmount":
      state.mounts.delete(op.path);
      return;
    case "file":
      state.rootfs = withFile(state.rootfs, op.path, op.blob, op.mode);
      return;
    case "dir":
      state.rootfs = mergeAt(state.rootfs, normaliseRel(op.path), store.getManifest(op.manifest));
      return;
    case "rm":
      state.rootfs = removePath(state.rootfs, normaliseRel(op.path));
      return;
    case "entrypoint":
      state.entrypoint = op.args;
      return;
    case "defaultArgs":
      state.defaultArgs = op.args;
      return;
    case "user":
      state.user = op.name;
      return;
    case "label":
      return;
    case "exec":
      throw new Error("engine double: applyOp cannot run execs");
  }
}

/** Used by tests: read an exec log file into records. */
export function readExecLog(stateDir: string): Record<string, unknown>[] {
  const p = join(stateDir, "exec-log.jsonl");
  if (!existsSync(p)) return [];
  return readFileSync(p, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
