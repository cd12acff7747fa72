// Drives a module through the SDK's real entrypoint in its own process (registration,
// constructor, function calls) and caches function results like the engine: by default
// for 7 days (or the registered time-to-live) across processes sharing the state dir,
// per session (one double process) for `cache: "session"`, never for `cache: "never"`.
// Errors are never cached.
import { spawn, type ChildProcess } from "node:child_process";
import { isObjectType } from "graphql";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { generateDependencyBindings, generateSdkFiles } from "./codegen.js";
import { DependencyScope } from "./dependencies.js";
import type { Engine } from "./engine.js";
import { FunctionError, type FunctionCallCtx, type ResolverEnv } from "./resolvers.js";
import type { DoubleServer } from "./server.js";
import { buildModule, moduleProcessEnv, type ModuleBuild } from "./runtime/build.js";
import { loadModuleSource } from "./runtime/module-source.js";
import { sdkVersion } from "./runtime/sdk-library.js";
import { GENERATED_MARKER, sdkDistDir } from "./sdk-stub.js";
import { canonicalJson, deferred, digestOf, gqlName, parseDurationMs, randomHex, sha256, toPascal, writeFileAtomic } from "./util.js";
import type { StateDir } from "./store.js";
import { decodeId, encodeId, isDoubleId, type FunctionArgV, type FunctionV, type ModuleV, type ObjectTypeDefV, type TypeDefV } from "./values.js";

const DOUBLE_RUNTIME_VERSION = "2";
const DEFAULT_TTL_MS = 7 * 24 * 3600 * 1000;

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
  /** The namespace of the cache volumes the module creates (see `moduleNamespace`). */
  namespace: string;
  /** dagger.json `dependencies`: the name the module knows each by, and its directory. */
  dependencies: DependencyInfo[];
}

export interface DependencyInfo {
  /** The name in the dependent's dagger.json (its API is namespaced by it). */
  name: string;
  /** The dependency's directory (holding its dagger.json). */
  dir: string;
}

interface DaggerJson {
  name?: string;
  source?: string;
  sdk?: { source?: string } | string;
  dependencies?: { name?: string; source?: string; pin?: string }[];
}

/** A dependency's `source` as the double can load it: a local path only. */
function dependencyOf(dir: string, dep: { name?: string; source?: string }, configPath: string): DependencyInfo {
  const source = dep.source ?? "";
  if (!dep.name || !source) throw new Error(`engine double: ${configPath}: a dependency needs a "name" and a "source"`);
  if (/^[a-z]+:\/\//i.test(source) || /^(github\.com|gitlab\.com|git@)/.test(source) || source.includes("@")) {
    throw new Error(`engine double: dependency ${JSON.stringify(dep.name)} comes from ${JSON.stringify(source)}: only local dependencies (a relative path) are implemented`);
  }
  const depDir = resolve(dir, source);
  if (!existsSync(join(depDir, "dagger.json"))) throw new Error(`engine double: dependency ${JSON.stringify(dep.name)}: no dagger.json in ${depDir}`);
  return { name: dep.name, dir: depDir };
}

export function readModuleInfo(moduleDir: string, ancestors: string[] = []): ModuleInfo {
  const dir = resolve(moduleDir);
  const configPath = join(dir, "dagger.json");
  if (!existsSync(configPath)) throw new Error(`engine double: no dagger.json in ${dir}`);
  if (ancestors.includes(dir)) throw new Error(`engine double: module dependency cycle: ${[...ancestors, dir].join(" -> ")}`);
  const config = JSON.parse(readFileSync(configPath, "utf8")) as DaggerJson;
  if (!config.name) throw new Error(`engine double: ${configPath} has no "name"`);
  const sdk = typeof config.sdk === "string" ? config.sdk : config.sdk?.source;
  if (sdk !== "typescript") throw new Error(`engine double: only TypeScript modules are supported (sdk: ${JSON.stringify(sdk)})`);
  const sourceDir = resolve(dir, config.source ?? ".");
  const dependencies = (config.dependencies ?? []).map((d) => dependencyOf(dir, d, configPath));
  // A dependency's source is part of the dependent's identity (its bindings, its function cache).
  const depDigests = dependencies.map((d) => `${d.name}=${readModuleInfo(d.dir, [...ancestors, dir]).digest}`);
  return {
    dir,
    name: config.name,
    mainObject: toPascal(config.name),
    sourceDir,
    digest: depDigests.length ? sha256([sourceDigest(dir, sourceDir), ...depDigests].join("\n")) : sourceDigest(dir, sourceDir),
    contextDir: findGitRoot(dir) ?? dir,
    namespace: moduleNamespace(config.name, dir),
    dependencies,
  };
}

/** The namespace of a client's own cache volumes (the CLI, tests): not a module's. */
export const CLIENT_NAMESPACE = "mainClient";

/**
 * The namespace of the cache volumes a local module creates (core/schema/cache.go
 * `namespaceFromModule`, v0.21.8): "mod(" + its dagger.json name + its source root's path in its
 * context directory (the enclosing Git repository) + ")". A Git source uses its clone ref and
 * subpath instead, so a local checkout and the same module installed from Git have separate
 * volumes. The double loads local modules only.
 */
export function moduleNamespace(name: string, moduleDir: string): string {
  const dir = resolve(moduleDir);
  const context = findGitRoot(dir) ?? dir;
  return `mod(${name}${relative(context, dir) || "."})`;
}

/**
 * The value of an argument with a `defaultPath` that was not given, loaded from the module's
 * context as the engine does: a relative path from the directory that holds dagger.json, an
 * absolute one from the context directory (the enclosing Git repository). Never outside it.
 */
export function contextualValue(store: StateDir, info: ModuleInfo, arg: FunctionArgV): string {
  const p = arg.defaultPath;
  const target = p.startsWith("/") ? resolve(info.contextDir, `.${p}`) : resolve(info.dir, p);
  const rel = relative(info.contextDir, target);
  if (rel.startsWith("..") || isAbsolute(rel)) {
    throw new Error(`engine double: defaultPath ${JSON.stringify(p)} of ${arg.name} is outside the context directory ${info.contextDir}`);
  }
  if (!existsSync(target)) throw new Error(`engine double: defaultPath ${JSON.stringify(p)} of ${arg.name}: ${target} does not exist`);
  if (arg.typeDef.name === "File") {
    if (!statSync(target).isFile()) throw new Error(`engine double: defaultPath ${JSON.stringify(p)} of ${arg.name} is not a file`);
    const f = store.importHostFile(target);
    return encodeId({ t: "File", name: f.name, blob: f.blob, mode: f.mode });
  }
  return encodeId({ t: "Directory", manifest: store.importHostDir(target, arg.ignore) });
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

/** Every file the engine loads for the module (dagger.json, package files, sources; .gitignore applied), and the SDK version. */
function sourceDigest(dir: string, sourceDir: string): string {
  const parts: string[] = [`double-runtime:${DOUBLE_RUNTIME_VERSION}`, `sdk:${sdkVersion()}`];
  const loaded = loadModuleSource(dir, relative(dir, sourceDir) || ".");
  for (const f of loaded.files) {
    const data = readFileSync(join(loaded.sourceDir, f));
    // Bindings the double generated (`develop`) are derived from the dependencies, counted apart.
    if (data.subarray(0, GENERATED_MARKER.length).toString() === GENERATED_MARKER) continue;
    parts.push(`${f}:${sha256(data)}`);
  }
  parts.push(`dagger.json:${sha256(readFileSync(join(dir, "dagger.json")))}`);
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
  private built: Promise<ModuleBuild> | undefined;
  private scope: Promise<DependencyScope | undefined> | undefined;
  private dependencyRuntimes: ModuleRuntime[] = [];

  constructor(
    private readonly engine: Engine,
    private readonly server: DoubleServer,
    private readonly env: ResolverEnv,
    moduleDir: string,
    private readonly verbose = false,
    private readonly registrationCache?: string,
    private readonly ancestors: string[] = [],
  ) {
    this.info = readModuleInfo(moduleDir, ancestors);
  }

  get engineStore(): StateDir {
    return this.engine.store;
  }

  /**
   * The module's dependencies, each with its own runtime (registered from its own source), and
   * the schema the module's function calls see: the core API extended with their types.
   * Undefined for a module without dependencies.
   */
  dependencyScope(): Promise<DependencyScope | undefined> {
    if (!this.info.dependencies.length) return Promise.resolve(undefined);
    if (!this.scope) {
      this.scope = (async () => {
        const deps = this.info.dependencies.map((d) => {
          const runtime = new ModuleRuntime(this.engine, this.server, this.env, d.dir, this.verbose, this.registrationCache, [...this.ancestors, this.info.dir]);
          this.dependencyRuntimes.push(runtime);
          return { name: d.name, runtime };
        });
        return DependencyScope.build(this.server.schema, deps);
      })();
      this.scope.catch(() => (this.scope = undefined));
    }
    return this.scope;
  }

  /**
   * `dagger develop` for a module with dependencies: writes the bindings into the module's own
   * sdk/ (index.ts, client.gen.ts, telemetry.ts), for tsc and editors. Returns the paths written.
   * Refuses to overwrite an sdk/ the double did not generate.
   */
  async develop(): Promise<string[]> {
    const scope = await this.dependencyScope();
    if (!scope) throw new Error(`engine double: develop: ${this.info.name} has no dependencies, so there are no bindings to generate`);
    const sdkDir = join(this.info.sourceDir, "sdk");
    const files = generateSdkFiles(scope, this.info.name, sdkDir, sdkDistDir(this.info.sourceDir));
    for (const name of Object.keys(files)) {
      const p = join(sdkDir, name);
      if (existsSync(p) && !readFileSync(p, "utf8").startsWith(GENERATED_MARKER)) {
        throw new Error(`engine double: develop: ${p} was not generated by the double; leaving sdk/ as it is`);
      }
    }
    return Object.entries(files).map(([name, text]) => {
      const p = join(sdkDir, name);
      writeFileAtomic(p, text);
      return p;
    });
  }

  /** The module built as the engine's runtime builds it (cached by what it is built from). */
  build(): Promise<ModuleBuild> {
    if (!this.built) {
      this.built = (async () => {
        const scope = await this.dependencyScope();
        return buildModule({
          moduleDir: this.info.dir,
          sourceSubpath: relative(this.info.dir, this.info.sourceDir) || ".",
          ...(scope ? { dependencyBindings: generateDependencyBindings(scope, this.info.name) } : {}),
        });
      })();
      this.built.catch(() => (this.built = undefined));
    }
    return this.built;
  }

  /** The module's typedefs, as its own registration sends them (cached by source digest). */
  typedefs(): Promise<ModuleV> {
    if (!this.registration) {
      this.registration = (async () => {
        const mod = await this.registered();
        // As the engine does when it adds the registered objects to the module.
        const scope = await this.dependencyScope();
        validateTypedefs(
          this.info.name,
          mod,
          (name) => isObjectType(this.server.schema.getType(name)),
          (name) => scope?.dependencyOfType(name),
        );
        return mod;
      })();
      this.registration.catch(() => (this.registration = undefined));
    }
    return this.registration;
  }

  /** The module's typedefs as its registration sent them (cached by source digest). */
  private async registered(): Promise<ModuleV> {
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
    const scope = await this.dependencyScope();
    const build = await this.build();
    this.env.calls.set(call.id, call);
    const caller = parentName ? `${parentName}.${name || "constructor"}` : "register";
    const token = this.server.openSession({ kind: "function", caller, namespace: this.info.namespace, call, ...(scope ? { scope } : {}) });
    const childEnv = moduleProcessEnv(build, { DAGGER_SESSION_PORT: String(this.server.port), DAGGER_SESSION_TOKEN: token });
    const child = spawn(build.command.file, build.command.args, { cwd: build.command.cwd, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
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
    for (const d of this.dependencyRuntimes) d.close();
  }
}

/**
 * The engine's checks when it adds a module's registered objects to the module (core/module.go
 * `validateObjectTypeDef`, v0.21): `id` is reserved for the object's ID, and a module's fields,
 * function results and arguments may use core types and its own, not a dependency's.
 */
export function validateTypedefs(
  moduleName: string,
  mod: ModuleV,
  isCore: (name: string) => boolean,
  dependencyOf: (typeName: string) => string | undefined,
): void {
  const own = new Set(mod.objects.map((o) => o.object?.name ?? ""));
  const fail = (msg: string): never => {
    throw new Error(`engine double: failed to add object to module ${JSON.stringify(moduleName)}: failed to validate type def: ${msg}`);
  };
  const check = (def: TypeDefV, external: (dep: string) => string) => {
    if (def.kind === "LIST_KIND" && def.list) return check(def.list.elementType, external);
    if (def.kind !== "OBJECT_KIND") return;
    const name = def.object?.name ?? def.name ?? "";
    if (own.has(name) || isCore(name)) return;
    const dep = dependencyOf(name);
    if (dep) fail(external(dep));
    fail(`${external("").replace(/ cannot .*$/, "")} uses the type ${JSON.stringify(name)}, which is neither a core type nor one of the module's`);
  };
  for (const o of mod.objects) {
    const obj = o.object;
    if (!obj) continue;
    const q = JSON.stringify;
    for (const f of obj.fields) {
      if (gqlName(f.name) === "id") fail(`cannot define field with reserved name ${q(f.name)} on object ${q(obj.name)}`);
      check(f.typeDef, (dep) => `object ${q(obj.name)} field ${q(f.name)} cannot reference external type from dependency module ${q(dep)}`);
    }
    for (const fn of [...(obj.ctor ? [obj.ctor] : []), ...obj.functions]) {
      if (gqlName(fn.name) === "id") fail(`cannot define function with reserved name ${q(fn.name)} on object ${q(obj.name)}`);
      if (fn !== obj.ctor) check(fn.returnType, (dep) => `object ${q(obj.name)} function ${q(fn.name)} cannot return external type from dependency module ${q(dep)}`);
      for (const a of fn.args) {
        check(a.typeDef, (dep) => `object ${q(obj.name)} function ${q(fn.name)} arg ${q(a.name)} cannot reference external type from dependency module ${q(dep)}`);
      }
    }
  }
  for (const i of mod.interfaces) {
    for (const fn of i.interface?.functions ?? []) {
      if (gqlName(fn.name) === "id") fail(`cannot define function with reserved name ${JSON.stringify(fn.name)} on interface ${JSON.stringify(i.interface?.name)}`);
    }
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
