// Resolvers for the subset of the Dagger API the module uses. Anything else fails loudly
// (see server.ts): `engine double: <Type>.<field> is not implemented`.
import { existsSync, readFileSync } from "node:fs";
import { posix, resolve } from "node:path";
import type { GraphQLResolveInfo } from "graphql";
import { type ContainerState, type Engine, expandVars } from "./engine.js";
import { listEntries, mergeAt, normaliseRel, patternMatcher, removePath, subManifest, type Manifest } from "./store.js";
import { FunctionError, type Ctx, type FunctionCallCtx } from "./session.js";
import {
  decodeId,
  encodeId,
  type ContainerOp,
  type FunctionArgV,
  type FunctionV,
  type TypeDefV,
  type Val,
  type ValOf,
} from "./values.js";

type Args = Record<string, unknown>;
type Resolver = (source: Val, args: Args, ctx: Ctx, info: GraphQLResolveInfo) => unknown;

// ---- small helpers ---------------------------------------------------------------------

function str(args: Args, name: string): string {
  const v = args[name];
  if (typeof v !== "string") throw new Error(`engine double: argument ${name} must be a string`);
  return v;
}

function optStr(args: Args, name: string): string | undefined {
  const v = args[name];
  return typeof v === "string" ? v : undefined;
}

function strList(args: Args, name: string): string[] {
  const v = args[name];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`engine double: argument ${name} must be a list`);
  return v.map(String);
}

function dec<T extends Val["t"]>(args: Args, name: string, type: T): ValOf<T> {
  return decodeId(str(args, name), type) as ValOf<T>;
}

function self<T extends Val["t"]>(source: Val, type: T): ValOf<T> {
  if (source.t !== type) throw new Error(`engine double: expected a ${type}, got a ${source.t}`);
  return source as ValOf<T>;
}

/** Refuse options the double does not model, instead of silently ignoring them. */
function refuse(args: Args, field: string, names: string[]): void {
  for (const n of names) {
    const v = args[n];
    if (v === undefined || v === null || v === false || v === "" || (Array.isArray(v) && v.length === 0)) continue;
    throw new Error(`engine double: ${field}(${n}: ...) is not implemented`);
  }
}

function ctr(source: Val): ValOf<"Container"> {
  return self(source, "Container");
}

function push(source: Val, op: ContainerOp): Val {
  return { t: "Container", ops: [...ctr(source).ops, op] };
}

/** Env and workdir as the chain so far leaves them (no exec needed to know them). */
function staticEnv(ops: ContainerOp[]): { env: Map<string, string>; workdir: string } {
  const env = new Map<string, string>();
  let workdir = "/";
  for (const op of ops) {
    if (op.op === "env") env.set(op.name, op.expand ? expandVars(op.value, env) : op.value);
    else if (op.op === "unsetEnv") env.delete(op.name);
    else if (op.op === "workdir") workdir = posix.resolve(workdir, op.path);
    else if (op.op === "from") continue;
  }
  return { env, workdir };
}

function ctrPath(source: Val, args: Args, name = "path"): string {
  const { env, workdir } = staticEnv(ctr(source).ops);
  let p = str(args, name);
  if (args["expand"] === true) p = expandVars(p, env);
  return posix.resolve(workdir, p);
}

async function evaluate(source: Val, ctx: Ctx) {
  return ctx.env.engine.evaluate(ctr(source).ops, { caller: ctx.session.caller });
}

function filterManifest(manifest: Manifest, include: string[], exclude: string[]): Manifest {
  if (!include.length && !exclude.length) return manifest;
  const ex = patternMatcher(exclude);
  const inc = include.length ? patternMatcher(include) : undefined;
  const out: Manifest = {};
  for (const [p, e] of Object.entries(manifest)) {
    if (ex(p)) continue;
    if (inc && !inc(p) && e.k !== "d") continue;
    out[p] = e;
  }
  if (inc) {
    // drop directories left empty by the include filter
    for (const [p, e] of Object.entries(out)) {
      if (e.k === "d" && !inc(p) && !Object.keys(out).some((q) => q.startsWith(`${p}/`))) delete out[p];
    }
  }
  return out;
}

function typeDef(source: Val): TypeDefV {
  return self(source, "TypeDef").def;
}

function withTypeDef(def: TypeDefV): Val {
  return { t: "TypeDef", def };
}

function fn(source: Val): FunctionV {
  return self(source, "Function").def;
}

function withFn(def: FunctionV): Val {
  return { t: "Function", def };
}

function currentCall(ctx: Ctx, source: Val): FunctionCallCtx {
  const id = self(source, "FunctionCall").call;
  const call = ctx.env.calls.get(id);
  if (!call) throw new Error("engine double: this function call is over");
  return call;
}

function sourceMapOf(args: Args) {
  const id = optStr(args, "sourceMap");
  return id ? (decodeId(id, "SourceMap") as ValOf<"SourceMap">).map : undefined;
}

function resolveSecretUri(ctx: Ctx, uri: string): Val {
  let scheme = "env";
  let rest = uri;
  const m = /^([a-z]+):(?:\/\/)?(.*)$/.exec(uri);
  if (m) {
    scheme = m[1]!;
    rest = m[2]!;
  }
  let plaintext: string;
  if (scheme === "env") {
    const v = process.env[rest];
    if (v === undefined) throw new Error(`engine double: secret env var not found: ${JSON.stringify(rest)}`);
    plaintext = v;
  } else if (scheme === "file") {
    const p = resolve(rest);
    if (!existsSync(p)) throw new Error(`engine double: secret file not found: ${p}`);
    plaintext = readFileSync(p, "utf8");
  } else {
    throw new Error(`engine double: secret provider ${JSON.stringify(scheme)} is not implemented (use env: or file:)`);
  }
  return { t: "Secret", secret: ctx.env.engine.addSecret(uri, plaintext) };
}

// ---- resolvers -------------------------------------------------------------------------

const nodeId: Resolver = (source) => encodeId(source);

export const resolvers: Record<string, Record<string, Resolver>> = {
  Query: {
    container: (_s, args) => {
      refuse(args, "container", ["platform"]);
      return { t: "Container", ops: [] };
    },
    cacheVolume: (_s, args, ctx) => {
      refuse(args, "cacheVolume", ["source", "owner"]);
      const sharing = optStr(args, "sharing");
      return {
        t: "CacheVolume",
        volume: { namespace: ctx.session.namespace, key: str(args, "key"), ...(sharing && sharing !== "SHARED" ? { sharing } : {}) },
      };
    },
    node: (_s, args) => decodeId(str(args, "id")),
    currentFunctionCall: (_s, _a, ctx) => {
      if (!ctx.session.call) throw new Error("engine double: currentFunctionCall: not called from a module function");
      return { t: "FunctionCall", call: ctx.session.call.id };
    },
    currentModule: (_s, _a, ctx) => {
      if (!ctx.session.call) throw new Error("engine double: currentModule: not called from a module function");
      return { t: "CurrentModule", name: ctx.session.call.moduleName };
    },
    module: () => ({ t: "Module", def: { description: "", objects: [], enums: [], interfaces: [] } }),
    typeDef: () => withTypeDef({ kind: "", optional: false }),
    function: (_s, args) => withFn({ name: str(args, "name"), returnType: dec(args, "returnType", "TypeDef").def, description: "", args: [] }),
    sourceMap: (_s, args) => ({
      t: "SourceMap",
      map: { filename: str(args, "filename"), line: Number(args["line"]), column: Number(args["column"]) },
    }),
    error: (_s, args) => ({ t: "Error", message: str(args, "message"), values: [] }),
    setSecret: (_s, args, ctx) => ({ t: "Secret", secret: ctx.env.engine.addSecret(str(args, "name"), str(args, "plaintext")) }),
    secret: (_s, args, ctx) => {
      refuse(args, "secret", ["cacheKey"]);
      return resolveSecretUri(ctx, str(args, "uri"));
    },
    file: (_s, args, ctx) => ({
      t: "File",
      name: str(args, "name"),
      blob: ctx.env.engine.store.putBlob(str(args, "contents")),
      mode: Number(args["permissions"] ?? 0o644),
    }),
    directory: (_s, _a, ctx) => ({ t: "Directory", manifest: ctx.env.engine.store.putManifest({}) }),
    version: () => "v0.21.8 (engine double)",
    defaultPlatform: () => `linux/${process.arch === "x64" ? "amd64" : process.arch}`,
  },

  Container: {
    id: nodeId,
    from: (s, args) => {
      refuse(args, "Container.from", ["registryService"]);
      return push(s, { op: "from", address: str(args, "address") });
    },
    withEnvVariable: (s, args) =>
      push(s, { op: "env", name: str(args, "name"), value: str(args, "value"), ...(args["expand"] === true ? { expand: true } : {}) }),
    withoutEnvVariable: (s, args) => push(s, { op: "unsetEnv", name: str(args, "name") }),
    withSecretVariable: (s, args) => push(s, { op: "secretEnv", name: str(args, "name"), secret: dec(args, "secret", "Secret").secret }),
    withoutSecretVariable: (s, args) => push(s, { op: "unsetSecretEnv", name: str(args, "name") }),
    withWorkdir: (s, args) => push(s, { op: "workdir", path: ctrPath(s, args) }),
    withMountedCache: (s, args) => {
      refuse(args, "Container.withMountedCache", ["owner"]);
      const volume = dec(args, "cache", "CacheVolume").volume;
      let sharing = optStr(args, "sharing") ?? "SHARED";
      // The stricter of the volume's and the mount's sharing mode wins.
      if (sharing === "SHARED" && volume.sharing) sharing = volume.sharing;
      const sourceId = optStr(args, "source");
      const source = sourceId ? (decodeId(sourceId, "Directory") as ValOf<"Directory">).manifest : undefined;
      return push(s, { op: "cache", path: ctrPath(s, args), volume, sharing, ...(source ? { source } : {}) });
    },
    withMountedDirectory: (s, args) => {
      refuse(args, "Container.withMountedDirectory", ["owner"]);
      return push(s, {
        op: "mountDir",
        path: ctrPath(s, args),
        manifest: dec(args, "source", "Directory").manifest,
        readOnly: args["readOnly"] === true,
      });
    },
    withMountedFile: (s, args) => {
      refuse(args, "Container.withMountedFile", ["owner"]);
      const f = dec(args, "source", "File");
      return push(s, { op: "mountFile", path: ctrPath(s, args), blob: f.blob, mode: f.mode });
    },
    withMountedSecret: (s, args) => {
      refuse(args, "Container.withMountedSecret", ["owner"]);
      return push(s, { op: "mountSecret", path: ctrPath(s, args), secret: dec(args, "source", "Secret").secret, mode: Number(args["mode"] ?? 0o400) });
    },
    withMountedTemp: (s, args) => push(s, { op: "mountTemp", path: ctrPath(s, args) }),
    withoutMount: (s, args) => push(s, { op: "unmount", path: ctrPath(s, args) }),
    withNewFile: (s, args, ctx) => {
      refuse(args, "Container.withNewFile", ["owner"]);
      return push(s, {
        op: "file",
        path: ctrPath(s, args),
        blob: ctx.env.engine.store.putBlob(str(args, "contents")),
        mode: Number(args["permissions"] ?? 0o644),
      });
    },
    withFile: (s, args) => {
      refuse(args, "Container.withFile", ["owner"]);
      const f = dec(args, "source", "File");
      const perms = args["permissions"];
      return push(s, { op: "file", path: ctrPath(s, args), blob: f.blob, mode: typeof perms === "number" ? perms : f.mode });
    },
    withDirectory: (s, args, ctx) => {
      refuse(args, "Container.withDirectory", ["owner", "gitignore", "permissions"]);
      const store = ctx.env.engine.store;
      const m = filterManifest(store.getManifest(dec(args, "source", "Directory").manifest), strList(args, "include"), strList(args, "exclude"));
      return push(s, { op: "dir", path: ctrPath(s, args), manifest: store.putManifest(m) });
    },
    withoutFile: (s, args) => push(s, { op: "rm", path: ctrPath(s, args) }),
    withoutDirectory: (s, args) => push(s, { op: "rm", path: ctrPath(s, args) }),
    withEntrypoint: (s, args) => push(s, { op: "entrypoint", args: strList(args, "args") }),
    withDefaultArgs: (s, args) => push(s, { op: "defaultArgs", args: strList(args, "args") }),
    withUser: (s, args) => push(s, { op: "user", name: str(args, "name") }),
    withLabel: (s, args) => push(s, { op: "label", name: str(args, "name"), value: str(args, "value") }),
    withExec: (s, args) => {
      refuse(args, "Container.withExec", ["redirectStdin", "experimentalPrivilegedNesting", "insecureRootCapabilities"]);
      let argv = strList(args, "args");
      if (args["expand"] === true) {
        const { env } = staticEnv(ctr(s).ops);
        argv = argv.map((a) => expandVars(a, env));
      }
      return push(s, {
        op: "exec",
        args: argv,
        expect: optStr(args, "expect") ?? "SUCCESS",
        stdin: optStr(args, "stdin") ?? "",
        redirectStdout: optStr(args, "redirectStdout") ?? "",
        redirectStderr: optStr(args, "redirectStderr") ?? "",
        useEntrypoint: args["useEntrypoint"] === true,
      });
    },
    stdout: async (s, _a, ctx) => lastExec(await evaluate(s, ctx)).stdout,
    stderr: async (s, _a, ctx) => lastExec(await evaluate(s, ctx)).stderr,
    combinedOutput: async (s, _a, ctx) => {
      const e = lastExec(await evaluate(s, ctx));
      return e.stdout + e.stderr;
    },
    exitCode: async (s, _a, ctx) => lastExec(await evaluate(s, ctx)).exitCode,
    sync: async (s, _a, ctx) => {
      await evaluate(s, ctx);
      return encodeId(s);
    },
    workdir: (s) => staticEnv(ctr(s).ops).workdir,
    envVariable: (s, args) => staticEnv(ctr(s).ops).env.get(str(args, "name")) ?? null,
    file: async (s, args, ctx) => {
      const f = ctx.env.engine.containerFile(await evaluate(s, ctx), ctrPath(s, args));
      return { t: "File", name: f.name, blob: f.blob, mode: f.mode };
    },
    directory: async (s, args, ctx) => ({
      t: "Directory",
      manifest: ctx.env.engine.containerDirectory(await evaluate(s, ctx), ctrPath(s, args)),
    }),
  },

  File: {
    id: nodeId,
    sync: (s) => encodeId(s),
    name: (s) => self(s, "File").name,
    contents: (s, args, ctx) => {
      let text = ctx.env.engine.store.getBlob(self(s, "File").blob).toString("utf8");
      const offset = args["offsetLines"];
      const limit = args["limitLines"];
      if (typeof offset === "number" || typeof limit === "number") {
        const lines = text.split(/(?<=\n)/);
        const start = typeof offset === "number" ? offset : 0;
        text = lines.slice(start, typeof limit === "number" ? start + limit : undefined).join("");
      }
      return text;
    },
    size: (s, _a, ctx) => ctx.env.engine.store.getBlob(self(s, "File").blob).length,
    digest: (s) => `sha256:${self(s, "File").blob}`,
    withName: (s, args) => ({ ...self(s, "File"), name: str(args, "name") }),
  },

  Directory: {
    id: nodeId,
    sync: (s) => encodeId(s),
    digest: (s) => `sha256:${self(s, "Directory").manifest}`,
    entries: (s, args, ctx) => {
      const m = ctx.env.engine.store.getManifest(self(s, "Directory").manifest);
      const rel = normaliseRel(optStr(args, "path") ?? "");
      if (rel && m[rel]?.k !== "d") throw new Error(`engine double: ${rel}: no such directory`);
      return listEntries(m, rel);
    },
    glob: (s, args, ctx) => {
      const m = ctx.env.engine.store.getManifest(self(s, "Directory").manifest);
      const match = patternMatcher([str(args, "pattern")]);
      return Object.keys(m)
        .filter((p) => match(p) && !p.split("/").slice(0, -1).some((_x, i, parts) => match(parts.slice(0, i + 1).join("/"))))
        .sort();
    },
    file: (s, args, ctx) => {
      const m = ctx.env.engine.store.getManifest(self(s, "Directory").manifest);
      const rel = normaliseRel(str(args, "path"));
      const e = m[rel];
      if (e?.k !== "f") throw new Error(`engine double: ${rel}: no such file`);
      return { t: "File", name: posix.basename(rel), blob: e.d, mode: e.m };
    },
    directory: (s, args, ctx) => {
      const store = ctx.env.engine.store;
      return { t: "Directory", manifest: store.putManifest(subManifest(store.getManifest(self(s, "Directory").manifest), normaliseRel(str(args, "path")))) };
    },
    withNewFile: (s, args, ctx) => {
      const store = ctx.env.engine.store;
      const rel = normaliseRel(str(args, "path"));
      const m = removePath(store.getManifest(self(s, "Directory").manifest), rel);
      const withParents = mergeAt(m, "", { [rel]: { k: "f", d: store.putBlob(str(args, "contents")), m: Number(args["permissions"] ?? 0o644) } });
      ensureDirs(withParents, rel);
      return { t: "Directory", manifest: store.putManifest(withParents) };
    },
    withFile: (s, args, ctx) => {
      refuse(args, "Directory.withFile", ["owner"]);
      const store = ctx.env.engine.store;
      const f = dec(args, "source", "File");
      const rel = normaliseRel(str(args, "path"));
      const m = removePath(store.getManifest(self(s, "Directory").manifest), rel);
      const perms = args["permissions"];
      m[rel] = { k: "f", d: f.blob, m: typeof perms === "number" ? perms : f.mode };
      ensureDirs(m, rel);
      return { t: "Directory", manifest: store.putManifest(m) };
    },
    withDirectory: (s, args, ctx) => {
      refuse(args, "Directory.withDirectory", ["owner", "gitignore", "permissions"]);
      const store = ctx.env.engine.store;
      const src = filterManifest(store.getManifest(dec(args, "source", "Directory").manifest), strList(args, "include"), strList(args, "exclude"));
      const m = mergeAt(store.getManifest(self(s, "Directory").manifest), normaliseRel(str(args, "path")), src);
      return { t: "Directory", manifest: store.putManifest(m) };
    },
    withoutFile: (s, args, ctx) => {
      const store = ctx.env.engine.store;
      return { t: "Directory", manifest: store.putManifest(removePath(store.getManifest(self(s, "Directory").manifest), normaliseRel(str(args, "path")))) };
    },
    withoutDirectory: (s, args, ctx) => {
      const store = ctx.env.engine.store;
      return { t: "Directory", manifest: store.putManifest(removePath(store.getManifest(self(s, "Directory").manifest), normaliseRel(str(args, "path")))) };
    },
  },

  CacheVolume: { id: nodeId },

  Service: {
    id: nodeId,
    start: async (s, _a, ctx) => {
      const svc = self(s, "Service");
      await ctx.env.services.start(svc.host, svc.ports);
      return encodeId(s);
    },
    endpoint: (s, args, ctx) => {
      const svc = self(s, "Service");
      const port = typeof args["port"] === "number" ? args["port"] : undefined;
      return ctx.env.services.endpoint(svc.host, svc.ports, port, optStr(args, "scheme") || undefined);
    },
    stop: async (s, _a, ctx) => {
      const svc = self(s, "Service");
      await ctx.env.services.stop(svc.host, svc.ports);
      return encodeId(s);
    },
  },

  Secret: {
    id: nodeId,
    name: (s) => self(s, "Secret").secret.name,
    uri: (s) => self(s, "Secret").secret.name,
    plaintext: (s, _a, ctx) => ctx.env.engine.secretPlaintext(self(s, "Secret").secret),
  },

  Error: {
    id: nodeId,
    message: (s) => self(s, "Error").message,
    values: (s) => self(s, "Error").values.map((v) => ({ t: "ErrorValue", name: v.name, value: v.value })),
    withValue: (s, args) => {
      const e = self(s, "Error");
      return { ...e, values: [...e.values, { name: str(args, "name"), value: str(args, "value") }] };
    },
  },
  ErrorValue: {
    id: nodeId,
    name: (s) => self(s, "ErrorValue").name,
    value: (s) => self(s, "ErrorValue").value,
  },

  SourceMap: {
    id: nodeId,
    filename: (s) => self(s, "SourceMap").map.filename,
    line: (s) => self(s, "SourceMap").map.line,
    column: (s) => self(s, "SourceMap").map.column,
    module: () => "",
    url: () => "",
  },

  TypeDef: {
    id: nodeId,
    kind: (s) => typeDef(s).kind,
    optional: (s) => typeDef(s).optional,
    name: (s) => {
      const d = typeDef(s);
      return d.object?.name ?? d.enum?.name ?? d.interface?.name ?? d.scalar?.name ?? d.name ?? "";
    },
    asObject: (s) => (typeDef(s).object ? { t: "ObjectTypeDef", def: typeDef(s).object } : null),
    asList: (s) => (typeDef(s).list ? { t: "ListTypeDef", def: typeDef(s).list } : null),
    // The schema has aliases (STRING = STRING_KIND, ...); the SDK sends the short names.
    withKind: (s, args) => withTypeDef({ ...typeDef(s), kind: canonicalKind(str(args, "kind")) }),
    withOptional: (s, args) => withTypeDef({ ...typeDef(s), optional: args["optional"] === true }),
    withObject: (s, args) => {
      const deprecated = optStr(args, "deprecated");
      const sourceMap = sourceMapOf(args);
      return withTypeDef({
        ...typeDef(s),
        kind: "OBJECT_KIND",
        name: str(args, "name"),
        object: {
          name: str(args, "name"),
          description: optStr(args, "description") ?? "",
          functions: [],
          fields: [],
          ...(deprecated !== undefined ? { deprecated } : {}),
          ...(sourceMap ? { sourceMap } : {}),
        },
      });
    },
    withInterface: (s, args) =>
      withTypeDef({
        ...typeDef(s),
        kind: "INTERFACE_KIND",
        name: str(args, "name"),
        interface: { name: str(args, "name"), description: optStr(args, "description") ?? "", functions: [] },
      }),
    withScalar: (s, args) =>
      withTypeDef({
        ...typeDef(s),
        kind: "SCALAR_KIND",
        name: str(args, "name"),
        scalar: { name: str(args, "name"), description: optStr(args, "description") ?? "" },
      }),
    withEnum: (s, args) =>
      withTypeDef({
        ...typeDef(s),
        kind: "ENUM_KIND",
        name: str(args, "name"),
        enum: { name: str(args, "name"), description: optStr(args, "description") ?? "", members: [] },
      }),
    withEnumMember: (s, args) => addEnumMember(s, str(args, "name"), optStr(args, "value") ?? "", args),
    withEnumValue: (s, args) => addEnumMember(s, str(args, "value"), str(args, "value"), args),
    withListOf: (s, args) =>
      withTypeDef({ ...typeDef(s), kind: "LIST_KIND", list: { elementType: dec(args, "elementType", "TypeDef").def } }),
    withField: (s, args) => {
      const d = typeDef(s);
      if (!d.object) throw new Error("engine double: TypeDef.withField on a typedef that is not an object");
      const deprecated = optStr(args, "deprecated");
      const field = {
        name: str(args, "name"),
        typeDef: dec(args, "typeDef", "TypeDef").def,
        description: optStr(args, "description") ?? "",
        ...(deprecated !== undefined ? { deprecated } : {}),
      };
      return withTypeDef({ ...d, object: { ...d.object, fields: [...d.object.fields, field] } });
    },
    withFunction: (s, args) => {
      const d = typeDef(s);
      const f = dec(args, "function", "Function").def;
      if (d.object) return withTypeDef({ ...d, object: { ...d.object, functions: [...d.object.functions, f] } });
      if (d.interface) return withTypeDef({ ...d, interface: { ...d.interface, functions: [...d.interface.functions, f] } });
      throw new Error("engine double: TypeDef.withFunction on a typedef that is neither an object nor an interface");
    },
    withConstructor: (s, args) => {
      const d = typeDef(s);
      if (!d.object) throw new Error("engine double: TypeDef.withConstructor on a typedef that is not an object");
      return withTypeDef({ ...d, object: { ...d.object, ctor: dec(args, "function", "Function").def } });
    },
  },
  ObjectTypeDef: {
    id: nodeId,
    name: (s) => self(s, "ObjectTypeDef").def.name,
    description: (s) => self(s, "ObjectTypeDef").def.description,
    functions: (s) => self(s, "ObjectTypeDef").def.functions.map((def) => ({ t: "Function", def })),
    fields: (s) => self(s, "ObjectTypeDef").def.fields.map((def) => ({ t: "FieldTypeDef", def })),
    constructor: (s: Val) => {
      const c = self(s, "ObjectTypeDef").def.ctor;
      return c ? { t: "Function", def: c } : null;
    },
  },
  ListTypeDef: {
    id: nodeId,
    elementTypeDef: (s) => withTypeDef(self(s, "ListTypeDef").def.elementType),
  },
  FieldTypeDef: {
    id: nodeId,
    name: (s) => self(s, "FieldTypeDef").def.name,
    description: (s) => self(s, "FieldTypeDef").def.description,
    typeDef: (s) => withTypeDef(self(s, "FieldTypeDef").def.typeDef),
  },

  Function: {
    id: nodeId,
    name: (s) => fn(s).name,
    description: (s) => fn(s).description,
    returnType: (s) => withTypeDef(fn(s).returnType),
    args: (s) => fn(s).args.map((def) => ({ t: "FunctionArg", def })),
    withDescription: (s, args) => withFn({ ...fn(s), description: str(args, "description") }),
    withSourceMap: (s, args) => withFn({ ...fn(s), sourceMap: dec(args, "sourceMap", "SourceMap").map }),
    withCachePolicy: (s, args) => {
      const ttl = optStr(args, "timeToLive");
      return withFn({ ...fn(s), cachePolicy: str(args, "policy"), ...(ttl ? { timeToLive: ttl } : {}) });
    },
    withDeprecated: (s, args) => withFn({ ...fn(s), deprecated: optStr(args, "reason") ?? "" }),
    withCheck: (s) => withFn({ ...fn(s), check: true }),
    withGenerator: (s) => withFn({ ...fn(s), generator: true }),
    withUp: (s) => withFn({ ...fn(s), up: true }),
    withArg: (s, args) => {
      const deprecated = optStr(args, "deprecated");
      const defaultValue = args["defaultValue"];
      const arg: FunctionArgV = {
        name: str(args, "name"),
        typeDef: dec(args, "typeDef", "TypeDef").def,
        description: optStr(args, "description") ?? "",
        defaultPath: optStr(args, "defaultPath") ?? "",
        defaultAddress: optStr(args, "defaultAddress") ?? "",
        ignore: strList(args, "ignore"),
        ...(typeof defaultValue === "string" ? { defaultValue } : {}),
        ...(deprecated !== undefined ? { deprecated } : {}),
      };
      return withFn({ ...fn(s), args: [...fn(s).args, arg] });
    },
  },
  FunctionArg: {
    id: nodeId,
    name: (s) => self(s, "FunctionArg").def.name,
    description: (s) => self(s, "FunctionArg").def.description,
    typeDef: (s) => withTypeDef(self(s, "FunctionArg").def.typeDef),
    defaultValue: (s) => self(s, "FunctionArg").def.defaultValue ?? "null",
    defaultPath: (s) => self(s, "FunctionArg").def.defaultPath,
    defaultAddress: (s) => self(s, "FunctionArg").def.defaultAddress,
    ignore: (s) => self(s, "FunctionArg").def.ignore,
  },

  Module: {
    id: nodeId,
    description: (s) => self(s, "Module").def.description,
    objects: (s) => self(s, "Module").def.objects.map((def) => ({ t: "TypeDef", def })),
    enums: (s) => self(s, "Module").def.enums.map((def) => ({ t: "TypeDef", def })),
    interfaces: (s) => self(s, "Module").def.interfaces.map((def) => ({ t: "TypeDef", def })),
    withDescription: (s, args) => ({ t: "Module", def: { ...self(s, "Module").def, description: str(args, "description") } }),
    withObject: (s, args) => {
      const m = self(s, "Module").def;
      return { t: "Module", def: { ...m, objects: [...m.objects, dec(args, "object", "TypeDef").def] } };
    },
    withEnum: (s, args) => {
      const m = self(s, "Module").def;
      return { t: "Module", def: { ...m, enums: [...m.enums, dec(args, "enum", "TypeDef").def] } };
    },
    withInterface: (s, args) => {
      const m = self(s, "Module").def;
      return { t: "Module", def: { ...m, interfaces: [...m.interfaces, dec(args, "iface", "TypeDef").def] } };
    },
  },

  FunctionCall: {
    id: nodeId,
    name: (s, _a, ctx) => currentCall(ctx, s).name,
    parentName: (s, _a, ctx) => currentCall(ctx, s).parentName,
    parent: (s, _a, ctx) => currentCall(ctx, s).parent,
    inputArgs: (s, _a, ctx) => currentCall(ctx, s).inputArgs.map((a) => ({ t: "FunctionCallArgValue", name: a.name, value: a.value })),
    returnValue: (s, args, ctx) => {
      currentCall(ctx, s).result.resolve(str(args, "value"));
      return null;
    },
    returnError: (s, args, ctx) => {
      const e = dec(args, "error", "Error");
      currentCall(ctx, s).result.reject(new FunctionError(e.message, e.values));
      return null;
    },
  },
  FunctionCallArgValue: {
    id: nodeId,
    name: (s) => self(s, "FunctionCallArgValue").name,
    value: (s) => self(s, "FunctionCallArgValue").value,
  },
  CurrentModule: {
    id: nodeId,
    name: (s) => self(s, "CurrentModule").name,
  },
};

function addEnumMember(s: Val, name: string, value: string, args: Args): Val {
  const d = typeDef(s);
  if (!d.enum) throw new Error("engine double: TypeDef.withEnumMember on a typedef that is not an enum");
  const deprecated = optStr(args, "deprecated");
  const member = { name, value, description: optStr(args, "description") ?? "", ...(deprecated !== undefined ? { deprecated } : {}) };
  return withTypeDef({ ...d, enum: { ...d.enum, members: [...d.enum.members, member] } });
}

function canonicalKind(kind: string): string {
  return kind.endsWith("_KIND") ? kind : `${kind}_KIND`;
}

function ensureDirs(m: Manifest, rel: string): void {
  const parts = rel.split("/");
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join("/");
    if (!m[dir]) m[dir] = { k: "d", m: 0o755 };
  }
}

function lastExec(state: ContainerState) {
  if (!state.lastExec) throw new Error("engine double: no command has been executed in this container (call withExec first)");
  return state.lastExec;
}
