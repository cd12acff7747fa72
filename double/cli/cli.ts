// `dagger call` stand-in:
//   dagger-call [-m DIR] [--json] [constructor flags] <function> [--flag value ...] [field|function [flags]] ...
// Each run is one engine-double process over a state dir shared with other runs
// (DAGGER_DOUBLE_STATE_DIR, default ./.dagger-double), as separate `dagger call`s share an engine.
import { getNamedType, isLeafType, isListType, isNonNullType, isObjectType, type GraphQLField } from "graphql";
import { startEngineDouble, type EngineDouble } from "../engine/double.js";
import { loadSchema } from "../engine/schema.js";
import { gqlName, toCamel, toKebab } from "../util.js";
import { decodeId, typeDefToString, type FunctionArgV, type FunctionV, type ObjectTypeDefV, type TypeDefV } from "../engine/values.js";

export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

class UsageError extends Error {}

class Cursor {
  i = 0;
  constructor(readonly argv: string[]) {}
  peek(): string | undefined {
    return this.argv[this.i];
  }
  next(): string | undefined {
    return this.argv[this.i++];
  }
  done(): boolean {
    return this.i >= this.argv.length;
  }
}

interface Flags {
  values: Map<string, string[]>;
  help: boolean;
}

/**
 * Read `--name value`, `--name=value` and bare boolean `--name` flags up to the next bare
 * word. `kindOf` says whether a flag exists and whether it is boolean (takes no value).
 */
function readFlags(cur: Cursor, kindOf: (name: string) => "bool" | "value" | undefined, what: string, known: () => string): Flags {
  const values = new Map<string, string[]>();
  let help = false;
  while (!cur.done()) {
    const a = cur.peek()!;
    if (a === "--") {
      cur.next();
      continue;
    }
    if (a === "--help" || a === "-h") {
      cur.next();
      help = true;
      continue;
    }
    if (!a.startsWith("-") || /^-\d/.test(a)) break;
    cur.next();
    if (!a.startsWith("--")) throw new UsageError(`unknown shorthand flag: ${JSON.stringify(a)} for ${what}`);
    const eq = a.indexOf("=");
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const kind = kindOf(name);
    if (!kind) {
      if (help) continue;
      throw new UsageError(`unknown flag: --${name} for ${what} (${known()})`);
    }
    let value = eq >= 0 ? a.slice(eq + 1) : undefined;
    if (value === undefined) {
      if (kind === "bool") value = "true";
      else {
        value = cur.next();
        if (value === undefined) throw new UsageError(`flag needs an argument: --${name}`);
      }
    }
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  return { values, help };
}

/** As `dagger call` reads list flags: quote characters removed, then comma-separated. */
function splitCsv(value: string): string[] {
  const cleaned = value.replace(/["'`]/g, "");
  if (cleaned === "") return [];
  return cleaned.split(",").map((s) => s.trim());
}

function findArg(args: FunctionArgV[], flag: string): FunctionArgV | undefined {
  return args.find((a) => toKebab(a.name) === flag || a.name === flag);
}

function argFlags(args: FunctionArgV[], flags: Flags, what: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [flag, raw] of flags.values) {
    const arg = findArg(args, flag)!;
    if (arg.typeDef.kind === "LIST_KIND") out[arg.name] = raw.flatMap(splitCsv);
    else {
      if (raw.length > 1) throw new UsageError(`--${flag} given more than once for ${what}`);
      out[arg.name] = raw[0];
    }
  }
  return out;
}

function kindOfArg(args: FunctionArgV[]) {
  return (name: string): "bool" | "value" | undefined => {
    const a = findArg(args, name);
    if (!a) return undefined;
    return a.typeDef.kind === "BOOLEAN_KIND" ? "bool" : "value";
  };
}

const knownFlags = (args: FunctionArgV[]) => () =>
  args.length ? `known flags: ${args.map((a) => `--${toKebab(a.name)}`).join(", ")}` : "it takes no flags";

// ---- help -----------------------------------------------------------------------------

function pad(s: string, n: number): string {
  return s.length + 2 > n ? `${s}  ` : s + " ".repeat(n - s.length);
}

function firstLine(s: string): string {
  return s.trim().split("\n")[0]?.trim() ?? "";
}

function argLine(a: FunctionArgV): string {
  const required = !a.typeDef.optional && a.defaultValue === undefined && !a.defaultPath;
  const extra: string[] = [];
  if (a.defaultValue !== undefined) extra.push(`default ${a.defaultValue}`);
  if (a.defaultPath) extra.push(`default path ${JSON.stringify(a.defaultPath)}`);
  if (required) extra.push("required");
  const desc = [a.description.replace(/\s+/g, " ").trim(), extra.length ? `(${extra.join(", ")})` : ""].filter(Boolean).join(" ");
  return `  ${pad(`--${toKebab(a.name)} ${typeDefToString({ ...a.typeDef, optional: true })}`, 36)}${desc}`;
}

function functionHelp(fn: FunctionV, path: string): string {
  const lines = [`Usage: dagger-call ${path} [flags]`, ""];
  if (fn.description) lines.push(fn.description.trim(), "");
  lines.push("Arguments:");
  if (!fn.args.length) lines.push("  (none)");
  for (const a of fn.args) lines.push(argLine(a));
  lines.push("", `Returns: ${typeDefToString(fn.returnType)}`);
  return `${lines.join("\n")}\n`;
}

function objectHelp(obj: ObjectTypeDefV, description: string, moduleName: string, path = ""): string {
  const lines = [`Usage: dagger-call [-m <module dir>] [--json] ${path ? `${path} ` : ""}<function> [--flag value ...] [field]`, ""];
  if (description.trim()) lines.push(description.trim(), "");
  lines.push(`Functions of ${obj.name}${path ? "" : ` (module ${moduleName})`}:`);
  for (const f of obj.functions) lines.push(`  ${pad(toKebab(f.name), 30)}${firstLine(f.description)}`);
  if (obj.fields.length) {
    lines.push("", "Fields:");
    for (const f of obj.fields) lines.push(`  ${pad(toKebab(f.name), 30)}${firstLine(f.description)}`);
  }
  if (!path && obj.ctor?.args.length) {
    lines.push("", "Constructor flags (before the function name):");
    for (const a of obj.ctor.args) lines.push(argLine(a));
  }
  lines.push("", 'Run "dagger-call <function> --help" to see a function\'s arguments.');
  return `${lines.join("\n")}\n`;
}

// ---- running --------------------------------------------------------------------------

type Current =
  | { kind: "module"; objectName: string; state: unknown }
  | { kind: "core"; id: string }
  | { kind: "value"; value: unknown; void: boolean };

export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const cur = new Cursor(argv);
  let moduleDir = ".";
  let json = false;
  // Global options come first.
  for (;;) {
    const a = cur.peek();
    if (a === "-m" || a === "--mod" || a === "--module") {
      cur.next();
      const v = cur.next();
      if (!v) {
        io.stderr(`Error: ${a} needs a module directory\n`);
        return 1;
      }
      moduleDir = v;
    } else if (a?.startsWith("--mod=") || a?.startsWith("--module=")) {
      cur.next();
      moduleDir = a.slice(a.indexOf("=") + 1);
    } else if (a === "--json") {
      cur.next();
      json = true;
    } else break;
  }

  let double: EngineDouble | undefined;
  try {
    double = await startEngineDouble({
      moduleDir,
      cwd: io.cwd,
      verbose: io.env["DAGGER_DOUBLE_VERBOSE"] === "1",
      execTimeoutMs: io.env["DAGGER_DOUBLE_EXEC_TIMEOUT_MS"] ? Number(io.env["DAGGER_DOUBLE_EXEC_TIMEOUT_MS"]) : undefined,
    });
    const mod = await double.typedefs();
    const main = await double.mainObject();
    const moduleObjects = new Set(mod.objects.map((o) => o.object?.name ?? ""));

    const ctorArgsDefs = main.ctor?.args ?? [];
    const ctorFlags = readFlags(cur, kindOfArg(ctorArgsDefs), "the constructor", knownFlags(ctorArgsDefs));
    if (cur.done() || ctorFlags.help) {
      io.stdout(objectHelp(main, mod.description, double.module.name));
      return 0;
    }
    const constructorArgs = argFlags(ctorArgsDefs, ctorFlags, "the constructor");

    let current: Current = { kind: "module", objectName: main.name, state: undefined };
    let path = "";
    let first = true;
    while (!cur.done()) {
      const name = cur.next()!;
      path = path ? `${path} ${name}` : name;
      if (current.kind === "module") {
        const obj = await objectOf(double, current.objectName);
        const camel = gqlName(toCamel(name));
        const fn = obj.functions.find((f) => gqlName(f.name) === camel);
        const field = obj.fields.find((f) => gqlName(f.name) === camel);
        if (fn) {
          const flags = readFlags(cur, kindOfArg(fn.args), name, knownFlags(fn.args));
          if (flags.help) {
            io.stdout(functionHelp(fn, path));
            return 0;
          }
          const args = argFlags(fn.args, flags, name);
          const result = first
            ? await double.call(fn.name, args, { constructorArgs })
            : await double.callOn(current.objectName, current.state, fn.name, args);
          current = toCurrent(result.value, result.returnType, moduleObjects);
        } else if (field) {
          const flags = readFlags(cur, () => undefined, name, () => "a field takes no flags");
          if (flags.help) {
            io.stdout(`${toKebab(field.name)}: ${typeDefToString(field.typeDef)}\n${field.description}\n`);
            return 0;
          }
          if (first) throw new UsageError(`${name} is a field of ${obj.name}; call a function first`);
          const value = (current.state as Record<string, unknown> | null | undefined)?.[field.name];
          current = toCurrent(value, field.typeDef, moduleObjects);
        } else {
          const names = [...obj.functions.map((f) => toKebab(f.name)), ...obj.fields.map((f) => toKebab(f.name))];
          throw new UsageError(`unknown function ${JSON.stringify(name)} for ${obj.name} (available: ${names.join(", ")})`);
        }
      } else if (current.kind === "core") {
        current = await coreField(double, current.id, name, cur);
      } else {
        throw new UsageError(`${JSON.stringify(name)}: the result before it is a plain value, with no fields`);
      }
      first = false;
    }
    io.stdout(await render(double, current, json));
    return 0;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    io.stderr(`Error: ${msg}\n`);
    return 1;
  } finally {
    await double?.close();
  }
}

async function objectOf(double: EngineDouble, name: string): Promise<ObjectTypeDefV> {
  const mod = await double.typedefs();
  const obj = mod.objects.find((o) => o.object?.name === name)?.object;
  if (!obj) throw new Error(`unknown object ${name}`);
  return obj;
}

function toCurrent(value: unknown, type: TypeDefV, moduleObjects: Set<string>): Current {
  if (type.kind === "OBJECT_KIND" && type.name && moduleObjects.has(type.name)) return { kind: "module", objectName: type.name, state: value };
  if (type.kind === "OBJECT_KIND" && typeof value === "string") return { kind: "core", id: value };
  return { kind: "value", value, void: type.kind === "VOID_KIND" };
}

/** `dagger call fn stdout`: a field of a core object, through the double's GraphQL API. */
async function coreField(double: EngineDouble, id: string, name: string, cur: Cursor): Promise<Current> {
  const typeName = decodeId(id).t;
  const type = loadSchema().getType(typeName);
  if (!isObjectType(type)) throw new Error(`${typeName} is not an object type`);
  const camel = toCamel(name);
  const field: GraphQLField<unknown, unknown> | undefined = type.getFields()[camel];
  if (!field) throw new UsageError(`unknown field ${JSON.stringify(name)} for ${typeName}`);
  const flags = readFlags(
    cur,
    (flag) => {
      const a = field.args.find((x) => x.name === toCamel(flag));
      if (!a) return undefined;
      return getNamedType(a.type).name === "Boolean" ? "bool" : "value";
    },
    `${typeName}.${camel}`,
    () => `known flags: ${field.args.map((a) => `--${toKebab(a.name)}`).join(", ") || "none"}`,
  );
  const vars: Record<string, unknown> = { id };
  const decls: string[] = ["$id: ID!"];
  const callArgs: string[] = [];
  for (const [flag, raw] of flags.values) {
    const a = field.args.find((x) => x.name === toCamel(flag))!;
    const named = getNamedType(a.type);
    let value: unknown = raw[raw.length - 1];
    if (isListType(isNonNullType(a.type) ? a.type.ofType : a.type)) value = raw.flatMap(splitCsv);
    else if (named.name === "Int") value = Number.parseInt(String(value), 10);
    else if (named.name === "Boolean") value = value === "true";
    else if (named.name === "ID") throw new UsageError(`--${flag}: object arguments of core fields are not supported by dagger-call`);
    vars[`a_${a.name}`] = value;
    decls.push(`$a_${a.name}: ${String(a.type)}`);
    callArgs.push(`${a.name}: $a_${a.name}`);
  }
  const named = getNamedType(field.type);
  const selection = isLeafType(named) ? "" : " { id }";
  const q = `query(${decls.join(", ")}) { node(id: $id) { ... on ${typeName} { ${camel}${callArgs.length ? `(${callArgs.join(", ")})` : ""}${selection} } } }`;
  const r = await double.query(q, vars);
  if (r.errors?.length) throw new Error(r.errors.map((e) => e.message).join("\n"));
  const value = (r.data?.["node"] as Record<string, unknown> | undefined)?.[camel];
  if (!isLeafType(named) && value && typeof value === "object" && typeof (value as { id?: unknown }).id === "string") {
    return { kind: "core", id: (value as { id: string }).id };
  }
  return { kind: "value", value, void: named.name === "Void" };
}

async function render(double: EngineDouble, current: Current, json: boolean): Promise<string> {
  if (current.kind === "module") return `${JSON.stringify(current.state ?? {}, null, 2)}\n`;
  if (current.kind === "core") return `${JSON.stringify(await coreSummary(double, current.id), null, 2)}\n`;
  const { value } = current;
  if (current.void || value === null || value === undefined) return json ? "null\n" : "";
  if (json) return `${JSON.stringify(value, null, 2)}\n`;
  if (typeof value === "string") return value === "" || value.endsWith("\n") ? value : `${value}\n`;
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== "object")) return value.map((v) => `${String(v)}\n`).join("");
  if (typeof value === "object") return `${JSON.stringify(value, null, 2)}\n`;
  return `${String(value)}\n`;
}

/** What `dagger call` shows for a returned core object (after evaluating it). */
async function coreSummary(double: EngineDouble, id: string): Promise<Record<string, unknown>> {
  const v = decodeId(id);
  switch (v.t) {
    case "Container": {
      await double.field(id, "sync");
      const from = v.ops.find((o) => o.op === "from");
      return { _type: "Container", image: from && from.op === "from" ? from.address : null, workdir: await double.field(id, "workdir") };
    }
    case "File":
      return { _type: "File", name: v.name, size: await double.field(id, "size") };
    case "Directory":
      return { _type: "Directory", entries: await double.field(id, "entries") };
    case "Secret":
      return { _type: "Secret", name: v.secret.name };
    case "CacheVolume":
      return { _type: "CacheVolume", key: v.volume.key };
    default:
      return { _type: v.t };
  }
}
