// Module dependencies (dagger.json `dependencies`), as the engine serves them to the module
// that depends on them: the dependency's objects become GraphQL types of that module's
// schema (its main object as `Query.<name>(constructor args)`, its other objects namespaced
// as `<Name><Object>`, each with `id` and reachable through `node(id:)`), and a field of
// one of them is served by calling the dependency's function through its own runtime
// (constructor, function cache policy, cache volumes namespaced under the dependency).
//
// Only the module that declares a dependency sees it: the CLI's session and the dependency's
// own function calls keep their own schema.
import { extendSchema, GraphQLError, isObjectType, isScalarType, parse, type GraphQLSchema } from "graphql";
import { contextualValue } from "./context-value.js";
import type { ModuleInfo } from "./module-info.js";
import { FunctionError, type Ctx, type FieldResolver, type SchemaScope } from "./session.js";
import type { StateDir } from "./store.js";
import { gqlName, gqlObjectName } from "../util.js";
import { decodeId, encodeId, type FunctionArgV, type FunctionV, type ModuleV, type ObjectTypeDefV, type TypeDefV, type Val, type ValOf } from "./values.js";

/** What the scope needs of a dependency's runtime (module.ts's ModuleRuntime is one). */
export interface DependencyRuntime {
  readonly info: ModuleInfo;
  readonly engineStore: StateDir;
  typedefs(): Promise<ModuleV>;
  /** Calls `object.fnName` ("" = constructor) with its cache policy; the result as JSON text. */
  invoke(objectName: string, fn: FunctionV, fnName: string, parent: unknown, args: Record<string, unknown>): Promise<{ json: string }>;
}

/** One dependency, registered: its runtime, typedefs and the GraphQL names of its objects. */
export interface LoadedDependency {
  /** Its name in the dependent's dagger.json; namespaces its types and its Query field. */
  name: string;
  runtime: DependencyRuntime;
  typedefs: ModuleV;
  /** Its main object's own name (the dependency module's PascalCase name). */
  mainObject: string;
  /** Own object name -> GraphQL type name in the dependent's schema. */
  typeNames: Map<string, string>;
}

/** A dependency object as a GraphQL type of the dependent's schema. */
export interface DependencyObject {
  dep: LoadedDependency;
  def: ObjectTypeDefV;
  typeName: string;
}

/**
 * The engine's name for a dependency's object (core/gqlformat.go `namespaceObject`): the main
 * object takes the dependency's name; an object already prefixed with the module's name keeps
 * its rest; any other is prefixed: `WorkflowRun` of `circuit-breaker` is `CircuitBreakerWorkflowRun`.
 */
export function namespaceObject(objectName: string, depName: string, moduleOriginalName: string): string {
  const obj = gqlObjectName(objectName);
  const prefix = gqlObjectName(moduleOriginalName);
  if (obj.startsWith(prefix)) {
    const rest = obj.slice(prefix.length);
    if (rest === "") return gqlObjectName(depName);
    if (/^[A-Z]/.test(rest)) return gqlObjectName(depName + rest);
  }
  return gqlObjectName(`${depName}_${obj}`);
}

export function typeDefName(def: TypeDefV): string {
  return def.object?.name ?? def.enum?.name ?? def.interface?.name ?? def.scalar?.name ?? def.name ?? "";
}

/** Object types of a dependency module that the double cannot serve fail here, loudly. */
function unsupported(what: string): never {
  throw new Error(`engine double: ${what} in a module dependency is not implemented`);
}

export class DependencyScope implements SchemaScope {
  /** The core schema extended with every dependency's types. */
  readonly schema: GraphQLSchema;
  /** The SDL that extends it. */
  readonly sdl: string;
  readonly byType = new Map<string, DependencyObject>();
  /** `Query` field -> the dependency's main object. */
  readonly constructors = new Map<string, DependencyObject>();

  private constructor(
    readonly base: GraphQLSchema,
    readonly deps: LoadedDependency[],
  ) {
    for (const dep of deps) {
      for (const o of dep.typedefs.objects) {
        const def = o.object;
        if (!def) continue;
        const entry = { dep, def, typeName: dep.typeNames.get(def.name)! };
        if (base.getType(entry.typeName) || this.byType.has(entry.typeName)) {
          throw new Error(`engine double: dependency ${dep.name}: type ${entry.typeName} is already in the schema`);
        }
        this.byType.set(entry.typeName, entry);
        if (def.name === dep.mainObject) this.constructors.set(gqlName(dep.name), entry);
      }
      if (!this.constructors.has(gqlName(dep.name))) throw new Error(`engine double: dependency ${dep.name} has no main object ${dep.mainObject}`);
      if (dep.typedefs.enums.length) unsupported(`an enum (${dep.typedefs.enums.map(typeDefName).join(", ")}, of ${dep.name})`);
      if (dep.typedefs.interfaces.length) unsupported(`an interface (${dep.typedefs.interfaces.map(typeDefName).join(", ")}, of ${dep.name})`);
    }
    this.sdl = this.buildSdl();
    try {
      this.schema = extendSchema(base, parse(this.sdl));
    } catch (e) {
      throw new Error(`engine double: the dependencies' schema extension is invalid: ${e instanceof Error ? e.message : String(e)}\n${this.sdl}`);
    }
  }

  /** Register every dependency (through its own runtime, cached by source digest) and build the schema. */
  static async build(base: GraphQLSchema, deps: { name: string; runtime: DependencyRuntime }[]): Promise<DependencyScope> {
    const loaded: LoadedDependency[] = [];
    for (const d of deps) {
      const typedefs = await d.runtime.typedefs();
      const info = d.runtime.info;
      const typeNames = new Map<string, string>();
      for (const o of typedefs.objects) if (o.object) typeNames.set(o.object.name, namespaceObject(o.object.name, d.name, info.name));
      loaded.push({ name: d.name, runtime: d.runtime, typedefs, mainObject: info.mainObject, typeNames });
    }
    return new DependencyScope(base, loaded);
  }

  /** The dependency a GraphQL type name (or a dependency object's own name) comes from, if any. */
  dependencyOfType(name: string): string | undefined {
    const entry = this.byType.get(name);
    if (entry) return entry.dep.runtime.info.name;
    return undefined;
  }

  // ---- schema ----------------------------------------------------------------------------

  /** A typedef as a GraphQL type: objects are returned as their type and taken as `ID`. */
  gqlType(dep: LoadedDependency, def: TypeDefV, input: boolean): string {
    let t: string;
    switch (def.kind) {
      case "STRING_KIND":
        t = "String";
        break;
      case "INTEGER_KIND":
        t = "Int";
        break;
      case "FLOAT_KIND":
        t = "Float";
        break;
      case "BOOLEAN_KIND":
        t = "Boolean";
        break;
      case "VOID_KIND":
        return "Void";
      case "LIST_KIND":
        if (!def.list) unsupported("a list without an element type");
        t = `[${this.gqlType(dep, def.list.elementType, input)}]`;
        break;
      case "OBJECT_KIND": {
        const name = typeDefName(def);
        const own = dep.typeNames.get(name);
        if (own) t = input ? "ID" : own;
        else if (isObjectType(this.base.getType(name))) t = input ? "ID" : name;
        else unsupported(`the object type ${name}`);
        break;
      }
      case "SCALAR_KIND": {
        const name = typeDefName(def);
        if (!isScalarType(this.base.getType(name))) unsupported(`the scalar ${name}`);
        t = name;
        break;
      }
      default:
        unsupported(`a ${def.kind} (${typeDefName(def)})`);
    }
    return def.optional ? t : `${t}!`;
  }

  private buildSdl(): string {
    const out: string[] = [];
    const ctorFields: string[] = [];
    for (const [field, entry] of this.constructors) {
      const desc = entry.def.description || entry.dep.typedefs.description;
      ctorFields.push(`  ${desc ? `${JSON.stringify(desc)} ` : ""}${field}${this.argsSdl(entry.dep, entry.def.ctor?.args ?? [])}: ${entry.typeName}!`);
    }
    // The legacy view served to clients of engines before v0.22.0 (core/schema/legacy_id.go): a
    // <Type>ID scalar and a load<Type>FromID root field per object, module types included.
    for (const { typeName } of this.byType.values()) {
      out.push(`scalar ${typeName}ID`);
      ctorFields.push(`  ${JSON.stringify(`Load a ${typeName} from its ID.`)} load${typeName}FromID(id: ${typeName}ID!): ${typeName}!`);
    }
    out.push(`extend type Query {\n${ctorFields.join("\n")}\n}`);
    for (const { dep, def, typeName } of this.byType.values()) {
      const lines = [`  ${JSON.stringify(`A unique identifier for this ${typeName}.`)} id: ID!`];
      const seen = new Set(["id"]);
      for (const f of def.fields) {
        const name = gqlName(f.name);
        if (seen.has(name)) throw new Error(`engine double: ${dep.name}: ${def.name} has two members named ${name}`);
        seen.add(name);
        lines.push(`  ${f.description ? `${JSON.stringify(f.description)} ` : ""}${name}: ${this.gqlType(dep, f.typeDef, false)}`);
      }
      for (const fn of def.functions) {
        const name = gqlName(fn.name);
        if (seen.has(name)) throw new Error(`engine double: ${dep.name}: ${def.name} has two members named ${name}`);
        seen.add(name);
        lines.push(`  ${fn.description ? `${JSON.stringify(fn.description)} ` : ""}${name}${this.argsSdl(dep, fn.args)}: ${this.gqlType(dep, fn.returnType, false)}`);
      }
      out.push(`${def.description ? `${JSON.stringify(def.description)}\n` : ""}type ${typeName} implements Node {\n${lines.join("\n")}\n}`);
    }
    return `${out.join("\n\n")}\n`;
  }

  private argsSdl(dep: LoadedDependency, args: FunctionArgV[]): string {
    if (!args.length) return "";
    const parts = args.map((a) => {
      // An argument with a defaultPath is optional: the engine loads it from the module's context.
      let type = this.gqlType(dep, a.defaultPath ? { ...a.typeDef, optional: true } : a.typeDef, true);
      let dflt = "";
      if (a.defaultValue !== undefined && a.defaultValue !== "null") dflt = ` = ${graphqlLiteral(JSON.parse(a.defaultValue) as unknown)}`;
      else if (a.defaultValue === "null" && type.endsWith("!")) type = type.slice(0, -1);
      const directives: string[] = [];
      if (a.typeDef.kind === "OBJECT_KIND") directives.push(`@expectedType(name: ${JSON.stringify(dep.typeNames.get(typeDefName(a.typeDef)) ?? typeDefName(a.typeDef))})`);
      if (a.defaultPath) directives.push(`@defaultPath(path: ${JSON.stringify(a.defaultPath)})`);
      if (a.ignore.length) directives.push(`@ignorePatterns(patterns: ${graphqlLiteral(a.ignore)})`);
      return `${a.description ? `${JSON.stringify(a.description)} ` : ""}${gqlName(a.name)}: ${type}${dflt}${directives.length ? ` ${directives.join(" ")}` : ""}`;
    });
    return `(${parts.join(", ")})`;
  }

  // ---- serving ---------------------------------------------------------------------------

  /** The resolver of `Type.field` when it belongs to a dependency, else undefined. */
  resolver(typeName: string, fieldName: string): FieldResolver | undefined {
    if (typeName === "Query") {
      const entry = this.constructors.get(fieldName);
      if (entry) return (_s, args) => this.construct(entry, args);
      const loaded = /^load(.+)FromID$/.exec(fieldName)?.[1];
      // The ID is a handle to the result it was taken from: loading it runs nothing again.
      if (loaded && this.byType.has(loaded)) return (_s, args) => moduleObject(decodeId(String(args["id"])), loaded);
      return undefined;
    }
    const entry = this.byType.get(typeName);
    if (!entry) return undefined;
    if (fieldName === "id") return (s) => encodeId(s);
    const field = entry.def.fields.find((f) => gqlName(f.name) === fieldName);
    if (field) return (s) => this.fromResult(entry.dep, moduleObject(s, typeName).state[field.name], field.typeDef);
    const fn = entry.def.functions.find((f) => gqlName(f.name) === fieldName);
    if (fn) return (s, args) => this.invoke(entry, fn, fn.name, moduleObject(s, typeName).state, args);
    return undefined;
  }

  private async construct(entry: DependencyObject, args: Record<string, unknown>): Promise<Val> {
    if (!entry.def.ctor) return { t: "ModuleObject", type: entry.typeName, module: entry.dep.name, object: entry.def.name, state: {} };
    const ctor: FunctionV = { ...entry.def.ctor, returnType: { kind: "OBJECT_KIND", optional: false, name: entry.def.name } };
    return (await this.invoke(entry, ctor, "", {}, args)) as Val;
  }

  /** Call a dependency's function with GraphQL arguments, as the engine calls a module function. */
  private async invoke(entry: DependencyObject, fn: FunctionV, fnName: string, parent: unknown, gqlArgs: Record<string, unknown>): Promise<unknown> {
    const { dep } = entry;
    const args: Record<string, unknown> = {};
    for (const arg of fn.args) {
      let v = gqlArgs[gqlName(arg.name)];
      if (v === undefined || v === null) {
        if (arg.defaultPath && (arg.typeDef.name === "File" || arg.typeDef.name === "Directory")) v = contextualValue(dep.runtime.engineStore, dep.runtime.info, arg);
        else if (arg.defaultValue !== undefined) v = JSON.parse(arg.defaultValue) as unknown;
        else continue;
      } else v = this.toInput(dep, v, arg.typeDef);
      args[arg.name] = v;
    }
    let json: string;
    try {
      json = (await dep.runtime.invoke(entry.def.name, fn, fnName, parent ?? {}, args)).json;
    } catch (e) {
      if (e instanceof FunctionError) {
        const extensions: Record<string, unknown> = {};
        for (const { name, value } of e.values) {
          try {
            extensions[name] = JSON.parse(value) as unknown;
          } catch {
            extensions[name] = value;
          }
        }
        throw new GraphQLError(e.message, { extensions });
      }
      throw e;
    }
    return this.fromResult(dep, JSON.parse(json) as unknown, fn.returnType);
  }

  /** A GraphQL argument as the dependency's SDK takes it: core objects as IDs, its own objects as their state. */
  private toInput(dep: LoadedDependency, value: unknown, def: TypeDefV): unknown {
    if (value === null || value === undefined) return value;
    if (def.kind === "LIST_KIND" && def.list) return (value as unknown[]).map((v) => this.toInput(dep, v, def.list!.elementType));
    if (def.kind === "OBJECT_KIND") {
      const name = typeDefName(def);
      const own = dep.typeNames.get(name);
      if (own) return (decodeId(String(value), own) as ValOf<"ModuleObject">).state;
      decodeId(String(value), name); // a wrong or foreign ID fails here, loudly
      return value;
    }
    return value;
  }

  /** A function's JSON result as a GraphQL value: core objects from their IDs, module objects from their state. */
  fromResult(dep: LoadedDependency, value: unknown, def: TypeDefV): unknown {
    if (value === null || value === undefined || def.kind === "VOID_KIND") return null;
    if (def.kind === "LIST_KIND" && def.list) {
      if (!Array.isArray(value)) throw new Error(`engine double: ${dep.name} returned ${JSON.stringify(value).slice(0, 80)} for a list`);
      return value.map((v) => this.fromResult(dep, v, def.list!.elementType));
    }
    if (def.kind === "OBJECT_KIND") {
      const name = typeDefName(def);
      const own = dep.typeNames.get(name);
      if (own) {
        if (typeof value !== "object" || Array.isArray(value)) throw new Error(`engine double: ${dep.name} returned ${JSON.stringify(value).slice(0, 80)} for a ${name}`);
        return { t: "ModuleObject", type: own, module: dep.name, object: name, state: value as Record<string, unknown> } satisfies Val;
      }
      if (typeof value !== "string") throw new Error(`engine double: ${dep.name} returned ${JSON.stringify(value).slice(0, 80)} for a ${name} (expected its ID)`);
      return decodeId(value, name);
    }
    return value;
  }
}

function moduleObject(source: Val, typeName: string): ValOf<"ModuleObject"> {
  if (source.t !== "ModuleObject" || source.type !== typeName) throw new Error(`engine double: expected a ${typeName}, got a ${source.t}`);
  return source;
}

/** A JSON value as a GraphQL literal (for argument defaults in SDL). */
export function graphqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(graphqlLiteral).join(", ")}]`;
  if (typeof value === "object") {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}: ${graphqlLiteral(v)}`)
      .join(", ")}}`;
  }
  throw new Error(`engine double: cannot write ${typeof value} as a GraphQL literal`);
}
