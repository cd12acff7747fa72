// Drives a module through the SDK's real entrypoint in its own process (registration,
// constructor, function calls) and caches function results like the engine: by default
// for 7 days (or the registered time-to-live) across processes sharing the state dir,
// per session (one double process) for `cache: "session"`, never for `cache: "never"`.
// Errors are never cached.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Engine } from "./engine.js";
import { FunctionError, type FunctionCallCtx, type ResolverEnv } from "./resolvers.js";
import type { DoubleServer } from "./server.js";
import { clientGenFor, sdkDistDir } from "./sdk-stub.js";
import { canonicalJson, deferred, digestOf, parseDurationMs, randomHex, sha256, toPascal, writeFileAtomic } from "./util.js";
import { decodeId, isDoubleId, type FunctionV, type ModuleV, type ObjectTypeDefV } from "./values.js";

const DOUBLE_RUNTIME_VERSION = "1";
const DEFAULT_TTL_MS = 7 * 24 * 3600 * 1000;
const ENTRY = join(dirname(fileURLToPath(import.meta.url)), "module-entry.ts");

export interface ModuleInfo {
  /** The directory holding dagger.json. */
  dir: string;
  /** dagger.json "name". */
  name: string;
  /** PascalCase of the name: the main object. */
  mainObject: string;
  /** The module's source directory (dagger.json "source", default "."). */
  sourceDir: string;
  /** Digest of the module's source: keys the registration and function caches. */
  digest: string;
  /** Context directory for defaultPath: the enclosing git repository, else `dir`. */
  contextDir: string;
}

export function readModuleInfo(moduleDir: string): ModuleInfo {
  const dir = resolve(moduleDir);
  const configPath = join(dir, "dagger.json");
  if (!existsSync(configPath)) throw new Error(`engine double: no dagger.json in ${dir}`);
  const config = JSON.parse(readFileSync(configPath, "utf8")) as { name?: string; source?: string; sdk?: { source?: string } | string };
  if (!config.name) throw new Error(`engine double: ${configPath} has no "name"`);
  const sdk = typeof config.sdk === "string" ? config.sdk : config.sdk?.source;
  if (sdk !== "typescript") throw new Error(`engine double: only TypeScript modules are supported (sdk: ${JSON.stringify(sdk)})`);
  const sourceDir = resolve(dir, config.source ?? ".");
  return {
    dir,
    name: config.name,
    mainObject: toPascal(config.name),
    sourceDir,
    digest: sourceDigest(dir, sourceDir),
    contextDir: findGitRoot(dir) ?? dir,
  };
}

function findGitRoot(start: string): string | undefined {
  let d = start;
  for (;;) {
    if (existsSync(join(d, ".git"))) return d;
    const up = dirname(d);
    if (up === d) return undefined;
    d = up;
  }
}

/**
 * Where registrations (module typedefs by source digest) are kept: the state dir, unless
 * DAGGER_DOUBLE_MODULE_CACHE names a directory shared by several state dirs (tests use this
 * to register a fixture module once per run instead of once per state dir).
 */
function registrationCacheDir(engine: Engine, explicit?: string): string {
  if (explicit) return resolve(explicit);
  return process.env["DAGGER_DOUBLE_MODULE_CACHE"] ? resolve(process.env["DAGGER_DOUBLE_MODULE_CACHE"]) : engine.store.path("modules");
}

function sdkVersion(sourceDir: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(sdkDistDir(sourceDir), "..", "..", "package.json"), "utf8")) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** dagger.json, package files, tsconfig and everything under src/ (not node_modules), and the SDK version. */
function sourceDigest(dir: string, sourceDir: string): string {
  const parts: string[] = [`double-runtime:${DOUBLE_RUNTIME_VERSION}`, `sdk:${sdkVersion(sourceDir)}`];
  const add = (file: string) => {
    if (existsSync(file) && statSync(file).isFile()) parts.push(`${relative(dir, file)}:${sha256(readFileSync(file))}`);
  };
  add(join(dir, "dagger.json"));
  for (const f of ["package.json", "package-lock.json", "tsconfig.json", "sdk/index.ts", "sdk/client.gen.ts"]) add(join(sourceDir, f));
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const name of readdirSync(d).sort()) {
      if (name === "node_modules") continue;
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else add(full);
    }
  };
  walk(join(sourceDir, "src"));
  return sha256(parts.join("\n"));
}

export interface InvokeResult {
  /** JSON text returned by the function. */
  json: string;
  cached: boolean;
}

export class ModuleRuntime {
  readonly info: ModuleInfo;
  private registration: Promise<ModuleV> | undefined;
  private sessionCache = new Map<string, Promise<string>>();
  private inflight = new Map<string, Promise<string>>();
  private children = new Set<ChildProcess>();
  private readonly tsxCli: string;

  constructor(
    private readonly engine: Engine,
    private readonly server: DoubleServer,
    private readonly env: ResolverEnv,
    moduleDir: string,
    private readonly verbose = false,
    private readonly registrationCache?: string,
  ) {
    this.info = readModuleInfo(moduleDir);
    this.tsxCli = createRequire(import.meta.url).resolve("tsx/cli");
  }

  /** The module's typedefs, as its own registration sends them (cached by source digest). */
  typedefs(): Promise<ModuleV> {
    if (!this.registration) {
      this.registration = (async () => {
        const cacheFile = join(registrationCacheDir(this.engine, this.registrationCache), `${this.info.digest}.json`);
        if (existsSync(cacheFile)) {
          try {
            return JSON.parse(readFileSync(cacheFile, "utf8")) as ModuleV;
          } catch {
            // unreadable: register again
          }
        }
        const json = await this.spawnCall("", "", "null", []);
        const id = JSON.parse(json) as unknown;
        if (typeof id !== "string") throw new Error(`engine double: registration returned ${json.slice(0, 200)}, not a module ID`);
        const mod = decodeId(id, "Module");
        if (mod.t !== "Module") throw new Error("engine double: registration did not return a Module");
        writeFileAtomic(cacheFile, JSON.stringify(mod.def));
        return mod.def;
      })();
      this.registration.catch(() => (this.registration = undefined));
    }
    return this.registration;
  }

  async object(name: string): Promise<ObjectTypeDefV> {
    const mod = await this.typedefs();
    const obj = mod.objects.find((o) => o.object?.name === name)?.object;
    if (!obj) throw new Error(`engine double: module ${this.info.name} has no object ${name}`);
    return obj;
  }

  /**
   * Call `objectName.fnName` ("" = constructor) with the parent state and arguments (plain
   * JSON values; core objects as IDs), honouring the function's cache policy.
   */
  async invoke(objectName: string, fn: FunctionV, fnName: string, parent: unknown, args: Record<string, unknown>): Promise<InvokeResult> {
    const policy = fn.cachePolicy ?? "Default";
    const key = digestOf({
      v: DOUBLE_RUNTIME_VERSION,
      module: this.info.digest,
      object: objectName,
      fn: fnName,
      parent: normaliseIds(parent),
      args: normaliseIds(args),
    });
    const label = `${objectName}.${fnName || "constructor"}`;
    const inputArgs = Object.entries(args).map(([name, value]) => ({ name, value: JSON.stringify(value) }));
    const run = () => this.spawnCall(objectName, fnName, JSON.stringify(parent ?? {}), inputArgs);
    const started = Date.now();
    const log = (cached: boolean, error?: string) =>
      this.engine.store.appendLog("call-log.jsonl", {
        time: new Date().toISOString(),
        callId: this.engine.callId,
        pid: process.pid,
        module: this.info.name,
        function: label,
        policy,
        cached,
        durationMs: Date.now() - started,
        ...(error ? { error } : {}),
      });

    if (policy === "Never") {
      try {
        const json = await run();
        log(false);
        return { json, cached: false };
      } catch (e) {
        log(false, errorMessage(e));
        throw e;
      }
    }

    if (policy === "PerSession") {
      const hit = this.sessionCache.get(key);
      if (hit) {
        const json = await hit;
        log(true);
        return { json, cached: true };
      }
      const p = run();
      this.sessionCache.set(key, p);
      try {
        const json = await p;
        log(false);
        return { json, cached: false };
      } catch (e) {
        this.sessionCache.delete(key);
        log(false, errorMessage(e));
        throw e;
      }
    }

    // Default: persisted, with a time-to-live.
    const ttl = (fn.timeToLive ? parseDurationMs(fn.timeToLive) : undefined) ?? DEFAULT_TTL_MS;
    const entry = this.engine.store.readJson<{ json: string; expiresAt: number }>("function-cache", `${key}.json`);
    if (entry && entry.expiresAt > Date.now()) {
      log(true);
      return { json: entry.json, cached: true };
    }
    const pending = this.inflight.get(key);
    if (pending) {
      const json = await pending;
      log(true);
      return { json, cached: true };
    }
    const p = run();
    this.inflight.set(key, p);
    try {
      const json = await p;
      this.engine.store.writeJson(
        { json, function: label, time: new Date().toISOString(), expiresAt: Date.now() + ttl },
        "function-cache",
        `${key}.json`,
      );
      log(false);
      return { json, cached: false };
    } catch (e) {
      log(false, errorMessage(e));
      throw e;
    } finally {
      this.inflight.delete(key);
    }
  }

  /** One run of the module's process through the SDK entrypoint. */
  private async spawnCall(parentName: string, name: string, parent: string, inputArgs: { name: string; value: string }[]): Promise<string> {
    const call: FunctionCallCtx = {
      id: randomHex(8),
      moduleName: this.info.name,
      parentName,
      name,
      parent,
      inputArgs,
      result: deferred<string>(),
    };
    this.env.calls.set(call.id, call);
    const caller = parentName ? `${parentName}.${name || "constructor"}` : "register";
    const token = this.server.openSession({ kind: "function", caller, namespace: this.info.name, call });
    const tsconfig = join(this.info.sourceDir, "tsconfig.json");
    const childEnv: Record<string, string> = {
      DAGGER_SESSION_PORT: String(this.server.port),
      DAGGER_SESSION_TOKEN: token,
      DAGGER_DOUBLE_MODULE_SRC: join(this.info.sourceDir, "src"),
      DAGGER_DOUBLE_CLIENT_GEN: clientGenFor(this.info.sourceDir, this.engine.store),
      PATH: process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: process.env["HOME"] ?? "/root",
    };
    if (process.env["TMPDIR"]) childEnv["TMPDIR"] = process.env["TMPDIR"];
    const argv = [this.tsxCli, "--no-deprecation", ...(existsSync(tsconfig) ? ["--tsconfig", tsconfig] : []), ENTRY];
    const child = spawn(process.execPath, argv, { cwd: this.info.sourceDir, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
    this.children.add(child);
    let output = "";
    const collect = (b: Buffer) => {
      const s = b.toString("utf8");
      if (this.verbose) process.stderr.write(`[${this.info.name} ${caller}] ${s}`);
      output = (output + s).slice(-64 * 1024);
    };
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);
    const exited = new Promise<number | null>((res) => {
      child.on("error", (e) => {
        call.result.reject(new Error(`engine double: cannot start the module process: ${e.message}`));
        res(null);
      });
      child.on("close", (code) => {
        this.children.delete(child);
        if (!call.result.settled) {
          call.result.reject(
            new Error(`engine double: the module process for ${caller} exited (code ${code}) without returning a result:\n${output.trim()}`),
          );
        }
        res(code);
      });
    });
    try {
      return await call.result.promise;
    } finally {
      // Let the process finish on its own (the SDK exits after returning), then clean up.
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
      this.server.closeSession(token);
      this.env.calls.delete(call.id);
    }
  }

  close(): void {
    for (const c of this.children) c.kill("SIGKILL");
    this.children.clear();
  }
}

/** Replace IDs by what identifies their value (secrets by HMAC, never by handle). */
export function normaliseIds(value: unknown): unknown {
  if (typeof value === "string" && isDoubleId(value)) {
    const v = decodeId(value);
    if (v.t === "Secret") return { secret: v.secret.name, digest: v.secret.digest };
    return JSON.parse(canonicalJson(normaliseIdsInVal(v))) as unknown;
  }
  if (Array.isArray(value)) return value.map(normaliseIds);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = normaliseIds(v);
    return out;
  }
  return value;
}

function normaliseIdsInVal(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normaliseIdsInVal);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (typeof o["handle"] === "string" && typeof o["digest"] === "string") return { name: o["name"], digest: o["digest"] };
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = normaliseIdsInVal(x);
    return out;
  }
  return v;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export { FunctionError };
