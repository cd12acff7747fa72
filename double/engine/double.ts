// The engine double as a library: start it, call the module's functions, read results.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Engine } from "./engine.js";
import { HostServices } from "./host-services.js";
import { contextualValue } from "./context-value.js";
import { CLIENT_NAMESPACE, type ModuleInfo } from "./module-info.js";
import { ModuleRuntime } from "./module.js";
import type { FunctionCallCtx, ResolverEnv, Session } from "./session.js";
import { checkSandbox, killAllSandboxes } from "./sandbox.js";
import { DoubleServer, type QueryResult } from "./server.js";
import { gqlName, toCamel, toKebab } from "../util.js";
import {
  decodeId,
  encodeId,
  isDoubleId,
  typeNameOf,
  type FunctionArgV,
  type FunctionV,
  type ModuleV,
  type ObjectTypeDefV,
  type TypeDefV,
} from "./values.js";

export interface EngineDoubleOptions {
  /** Where volumes, caches and logs live. Default: env DAGGER_DOUBLE_STATE_DIR, else ./.dagger-double. */
  stateDir?: string;
  /** The module (directory with dagger.json). Default: the current directory. */
  moduleDir?: string;
  /** The API schema. Default: env DAGGER_SCHEMA_PATH, else double/schema/schema.graphqls. */
  schemaPath?: string;
  /** Echo the module's output and each exec's output to stderr. */
  verbose?: boolean;
  /** Kill an exec after this long (default: no limit). */
  execTimeoutMs?: number;
  /** Base for relative host paths in File/Directory/Secret arguments. Default: cwd. */
  cwd?: string;
  /**
   * Keep module registrations (typedefs by source digest) here instead of in the state dir,
   * so several state dirs register a module once. Default: env DAGGER_DOUBLE_MODULE_CACHE.
   */
  registrationCacheDir?: string;
}

export interface CallOptions {
  /** Arguments for the main object's constructor. */
  constructorArgs?: Record<string, unknown>;
}

export interface CallResult {
  /** The function's return value, parsed from JSON (core objects are IDs). */
  value: unknown;
  returnType: TypeDefV;
  /** Whether the function result came from the function cache. */
  cached: boolean;
}

export interface EngineDouble {
  readonly port: number;
  /** The client session's token (Basic auth user name). */
  readonly token: string;
  readonly stateDir: string;
  readonly module: ModuleInfo;
  /** The process's call id in exec-log.jsonl / call-log.jsonl. */
  readonly callId: string;
  /** Every `Type.field` that was asked for but is not implemented. */
  readonly unimplemented: ReadonlySet<string>;
  /** Run a GraphQL query as a client (validated against the schema). */
  query(query: string, variables?: Record<string, unknown>): Promise<QueryResult>;
  /** The module's typedefs, as the engine gets them from the SDK's moduleTypes. */
  typedefs(): Promise<ModuleV>;
  /** The typedefs the module's own process registers (the SDK's Register step; uncached): to cross-check `typedefs()`. */
  registeredByModule(): Promise<ModuleV>;
  mainObject(): Promise<ObjectTypeDefV>;
  /**
   * Call a function of the main object. `fn` may be camelCase or kebab-case. Arguments
   * use the function's own names (camelCase or kebab-case); core object arguments may be
   * given as IDs or as the CLI would take them (host path, `env:NAME`, volume key, image).
   */
  call(fn: string, args?: Record<string, unknown>, opts?: CallOptions): Promise<CallResult>;
  /** Call a function of any module object, given that object's state. */
  callOn(objectName: string, state: unknown, fn: string, args?: Record<string, unknown>): Promise<CallResult>;
  /** Read a scalar field of a core object by ID (e.g. a returned Container's `stdout`). */
  field(id: string, field: string): Promise<unknown>;
  hostFile(path: string): string;
  hostDirectory(path: string, ignore?: string[]): string;
  cacheVolume(key: string): string;
  setSecret(name: string, plaintext: string): string;
  secretFromUri(uri: string): string;
  container(address: string): string;
  /**
   * `dagger develop`: for a module with dependencies, write their TypeScript bindings into the
   * module's sdk/ (the double's module runs never need this: they generate their own in the
   * state dir). Returns the paths written.
   */
  develop(): Promise<string[]>;
  close(): Promise<void>;
}

const CORE_ARG_TYPES = new Set(["File", "Directory", "Secret", "CacheVolume", "Container", "Service"]);

export function defaultStateDir(cwd = process.cwd()): string {
  return resolve(cwd, process.env["DAGGER_DOUBLE_STATE_DIR"] ?? ".dagger-double");
}

export async function startEngineDouble(options: EngineDoubleOptions = {}): Promise<EngineDouble> {
  checkSandbox();
  const cwd = options.cwd ?? process.cwd();
  const stateDir = resolve(cwd, options.stateDir ?? defaultStateDir(cwd));
  const engine = new Engine(stateDir, { execTimeoutMs: options.execTimeoutMs, verbose: options.verbose });
  const env: ResolverEnv = { engine, calls: new Map<string, FunctionCallCtx>(), services: new HostServices() };
  const server = new DoubleServer(env, options.schemaPath);
  await server.start();
  const clientSession: Session = { kind: "client", caller: "client", namespace: CLIENT_NAMESPACE };
  const token = server.openSession(clientSession);
  let runtime: ModuleRuntime;
  try {
    runtime = new ModuleRuntime(engine, server, env, resolve(cwd, options.moduleDir ?? "."), options.verbose, options.registrationCacheDir);
  } catch (e) {
    await server.close();
    throw e;
  }
  const info = runtime.info;

  const hostFile = (path: string) => {
    const f = engine.store.importHostFile(resolve(cwd, path));
    return encodeId({ t: "File", name: f.name, blob: f.blob, mode: f.mode });
  };
  const hostDirectory = (path: string, ignore: string[] = []) =>
    encodeId({ t: "Directory", manifest: engine.store.importHostDir(resolve(cwd, path), ignore) });
  const cacheVolume = (key: string) => {
    if (!key) throw new Error("engine double: cacheVolume name cannot be empty");
    return encodeId({ t: "CacheVolume", volume: { namespace: CLIENT_NAMESPACE, key } });
  };
  const setSecret = (name: string, plaintext: string) => encodeId({ t: "Secret", secret: engine.addSecret(name, plaintext) });
  const secretFromUri = (uri: string) => {
    const r = /^([a-z]+):(?:\/\/)?(.*)$/.exec(uri);
    const scheme = r ? r[1]! : "env";
    const rest = r ? r[2]! : uri;
    if (scheme === "env") {
      const v = process.env[rest];
      if (v === undefined) throw new Error(`engine double: secret env var not found: ${JSON.stringify(rest)}`);
      return setSecret(uri, v);
    }
    if (scheme === "file") {
      const p = resolve(cwd, rest);
      if (!existsSync(p)) throw new Error(`engine double: secret file not found: ${p}`);
      return setSecret(uri, readFileSync(p, "utf8"));
    }
    throw new Error(`engine double: secret provider ${JSON.stringify(scheme)} is not supported (use env:NAME or file:PATH)`);
  };
  const container = (address: string) => encodeId({ t: "Container", ops: [{ op: "from", address }] });
  // As the CLI reads a Service flag: tcp://HOST:PORT is Host.service(ports: [{backend: PORT, frontend: PORT}], host: HOST).
  const hostService = (address: string, arg: FunctionArgV) => {
    const m = /^tcp:\/\/([^:/]+):(\d+)$/.exec(address);
    if (!m) throw new Error(`invalid argument ${JSON.stringify(address)} for --${toKebab(arg.name)}: a service from the host is tcp://HOST:PORT`);
    const port = Number(m[2]);
    return encodeId({ t: "Service", host: m[1]!, ports: [{ frontend: port, backend: port, protocol: "TCP" }] });
  };

  /** Turn a CLI-style value into what the function receives. */
  const convert = (arg: FunctionArgV, def: TypeDefV, value: unknown): unknown => {
    if (value === undefined || value === null) return value;
    if (def.kind === "LIST_KIND" && def.list) {
      const items = Array.isArray(value) ? value : [value];
      return items.map((v) => convert(arg, def.list!.elementType, v));
    }
    if (def.kind === "OBJECT_KIND" && def.name && CORE_ARG_TYPES.has(def.name) && typeof value === "string" && !isDoubleId(value)) {
      switch (def.name) {
        case "File":
          return hostFile(value);
        case "Directory":
          return hostDirectory(value, arg.ignore);
        case "Secret":
          return secretFromUri(value);
        case "CacheVolume":
          return cacheVolume(value);
        case "Container":
          return container(value);
        case "Service":
          return hostService(value, arg);
      }
    }
    if (def.kind === "INTEGER_KIND" && typeof value === "string") {
      if (!/^-?\d+$/.test(value.trim())) throw new Error(`invalid argument "${value}" for --${toKebab(arg.name)}: not an integer`);
      return Number.parseInt(value, 10);
    }
    if (def.kind === "FLOAT_KIND" && typeof value === "string") {
      const n = Number(value);
      if (Number.isNaN(n)) throw new Error(`invalid argument "${value}" for --${toKebab(arg.name)}: not a number`);
      return n;
    }
    if (def.kind === "BOOLEAN_KIND" && typeof value === "string") {
      if (value !== "true" && value !== "false") throw new Error(`invalid argument "${value}" for --${toKebab(arg.name)}: not a boolean`);
      return value === "true";
    }
    if (def.kind === "ENUM_KIND" && typeof value === "string") {
      const members = def.enum?.members.map((m) => m.name);
      if (members?.length && !members.includes(value)) {
        throw new Error(`invalid argument "${value}" for --${toKebab(arg.name)}: must be one of ${members.join(", ")}`);
      }
    }
    return value;
  };

  const prepareArgs = (fn: FunctionV, raw: Record<string, unknown>, what: string): Record<string, unknown> => {
    const byName = new Map<string, unknown>();
    for (const [k, v] of Object.entries(raw)) byName.set(toCamel(k), v);
    const out: Record<string, unknown> = {};
    for (const arg of fn.args) {
      const given = byName.get(arg.name);
      byName.delete(arg.name);
      if (given !== undefined) {
        out[arg.name] = convert(arg, arg.typeDef, given);
      } else if (arg.defaultPath && (arg.typeDef.name === "File" || arg.typeDef.name === "Directory")) {
        out[arg.name] = contextualValue(engine.store, info, arg);
      } else if (arg.defaultValue !== undefined) {
        out[arg.name] = JSON.parse(arg.defaultValue) as unknown;
      } else if (!arg.typeDef.optional) {
        throw new Error(`${what}: missing required argument --${toKebab(arg.name)} (${arg.name})`);
      }
    }
    const unknown = [...byName.keys()];
    if (unknown.length) throw new Error(`${what}: unknown argument${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => `--${toKebab(u)}`).join(", ")}`);
    return out;
  };

  const findFunction = (obj: ObjectTypeDefV, name: string): FunctionV => {
    // As the engine names them in its API: `circuitBreakerRun_fallback` is `circuitBreakerRunFallback`.
    const wanted = gqlName(toCamel(name));
    const f = obj.functions.find((x) => x.name === name || gqlName(x.name) === wanted);
    if (!f) {
      throw new Error(
        `unknown function ${JSON.stringify(name)} on ${obj.name}; available: ${obj.functions.map((x) => toKebab(x.name)).join(", ")}`,
      );
    }
    return f;
  };

  const callOn = async (objectName: string, state: unknown, fnName: string, args: Record<string, unknown> = {}): Promise<CallResult> => {
    const obj = await runtime.object(objectName);
    const fn = findFunction(obj, fnName);
    const prepared = prepareArgs(fn, args, `${toKebab(fn.name)}`);
    const r = await runtime.invoke(objectName, fn, fn.name, state ?? {}, prepared);
    return { value: JSON.parse(r.json) as unknown, returnType: fn.returnType, cached: r.cached };
  };

  const double: EngineDouble = {
    port: server.port,
    token,
    stateDir,
    module: info,
    callId: engine.callId,
    unimplemented: server.unimplemented,
    query: (q, variables) => server.run(q, clientSession, variables),
    typedefs: () => runtime.typedefs(),
    registeredByModule: () => runtime.registeredByModule(),
    mainObject: () => runtime.object(info.mainObject),
    async call(fnName, args = {}, opts = {}) {
      const main = await runtime.object(info.mainObject);
      let state: unknown = {};
      if (main.ctor) {
        const ctorArgs = prepareArgs(main.ctor, opts.constructorArgs ?? {}, "constructor");
        const r = await runtime.invoke(info.mainObject, main.ctor, "", {}, ctorArgs);
        state = JSON.parse(r.json) as unknown;
      } else if (opts.constructorArgs && Object.keys(opts.constructorArgs).length) {
        throw new Error(`${info.mainObject} has no constructor arguments`);
      }
      return callOn(info.mainObject, state, fnName, args);
    },
    callOn,
    async field(id, field) {
      const v = decodeId(id);
      const r = await server.run(`query($id: ID!) { node(id: $id) { ... on ${typeNameOf(v)} { ${field} } } }`, clientSession, { id });
      if (r.errors?.length) throw new Error(r.errors.map((e) => e.message).join("\n"));
      return (r.data?.["node"] as Record<string, unknown> | undefined)?.[field];
    },
    hostFile,
    hostDirectory,
    cacheVolume,
    setSecret,
    secretFromUri,
    container,
    develop: () => runtime.develop(),
    async close() {
      runtime.close();
      await env.services.closeAll();
      killAllSandboxes();
      await server.close();
    },
  };
  return double;
}
