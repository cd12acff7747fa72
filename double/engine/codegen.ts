// TypeScript bindings for a module's dependencies, generated from their registered typedefs,
// in the shape of the engine's codegen (`client.gen.ts`): one class per dependency object
// (a lazy query chain on the SDK's `Context`; functions returning objects chain, functions
// returning scalars or lists run the query), an `<Parent><Function>Opts` type per function
// with optional arguments, and a `Client` that extends the SDK's own with one field per
// dependency (`dag.circuitBreaker()`), exported as `dag`.
//
// The engine generates the whole API into one file; here the core API stays the installed npm
// SDK's and the bindings import from it, so that there is one SDK instance (one connection)
// in the module's process. `index.ts` re-exports both, the bindings' `Client` and `dag` winning.
import { relative, sep } from "node:path";
import type { DependencyScope, LoadedDependency } from "./dependencies.js";
import { typeDefName } from "./dependencies.js";
import { GENERATED_MARKER } from "./develop-sdk.js";
import { gqlName } from "../util.js";
import type { FunctionArgV, FunctionV, ObjectTypeDefV, TypeDefV } from "./values.js";

const RESERVED = new Set(
  "break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package private protected public await".split(
    " ",
  ),
);

/**
 * The files of a module's `sdk/` (index.ts, client.gen.ts, telemetry.ts) for its dependencies.
 * `sdkDir` is where they will be written and `distDir` the installed SDK's dist/src: imports
 * between them are relative.
 */
export function generateSdkFiles(scope: DependencyScope, moduleName: string, sdkDir: string, distDir: string): Record<string, string> {
  let dist = relative(sdkDir, distDir).split(sep).join("/");
  if (!dist.startsWith(".")) dist = `./${dist}`;
  const deps = scope.deps.map((d) => d.name).join(", ");
  const header = `${GENERATED_MARKER} for the module ${JSON.stringify(moduleName)}: a stand-in for the sdk/ that \`dagger develop\` generates.\n// Dependencies: ${deps}. Do not edit: it is generated again from their typedefs.\n`;
  return {
    "index.ts": `${header}export * from "${dist}/index.js";\nexport * from "./client.gen.js";\n// The dependencies' bindings extend the core client: their Client and dag win.\nexport { Client, dag } from "./client.gen.js";\n`,
    "telemetry.ts": `${header}export * from "${dist}/telemetry/index.js";\n`,
    "client.gen.ts": `${header}${new BindingsWriter(scope, dist).write()}`,
  };
}

/**
 * The dependencies' bindings as the runtime's client.gen.ts holds them: in the same file as the
 * core API (its classes, BaseClient, and its Client renamed CoreClient), so nothing is imported.
 */
export function generateDependencyBindings(scope: DependencyScope, moduleName: string): string {
  const deps = scope.deps.map((d) => d.name).join(", ");
  return `\n// Bindings of the dependencies of ${JSON.stringify(moduleName)}: ${deps}.\n${new BindingsWriter(scope, "").body()}\n\nexport const dag = new Client();\n`;
}

class BindingsWriter {
  private coreValues = new Set<string>();
  private coreTypes = new Set<string>(["ID"]);

  constructor(
    private readonly scope: DependencyScope,
    private readonly dist: string,
  ) {}

  /** The dependency classes and the Client that extends the core one. */
  body(): string {
    const body: string[] = [];
    for (const { dep, def, typeName } of this.scope.byType.values()) body.push(this.objectClass(dep, def, typeName));
    body.push(this.client());
    return body.join("\n\n");
  }

  write(): string {
    const body = this.body();
    const imports = [
      `import { Context } from "${this.dist}/common/context.js";`,
      `import { Client as CoreClient${[...this.coreValues].sort().map((c) => `, ${c}`).join("")} } from "${this.dist}/api/client.gen.js";`,
      `import type { ${[...this.coreTypes].sort().join(", ")} } from "${this.dist}/api/client.gen.js";`,
    ];
    const base = [
      "class BaseClient {",
      "  /**",
      "   * @hidden",
      "   */",
      "  constructor(protected _ctx: Context = new Context()) {}",
      "}",
    ];
    return `/* eslint-disable */\n${imports.join("\n")}\n\n${base.join("\n")}\n\n${body}\n\nexport const dag = new Client();\n`;
  }

  // ---- types -------------------------------------------------------------------------------

  private tsType(dep: LoadedDependency, def: TypeDefV): string {
    switch (def.kind) {
      case "STRING_KIND":
        return "string";
      case "INTEGER_KIND":
      case "FLOAT_KIND":
        return "number";
      case "BOOLEAN_KIND":
        return "boolean";
      case "VOID_KIND":
        return "void";
      case "LIST_KIND":
        return `${this.tsType(dep, def.list!.elementType)}[]`;
      case "OBJECT_KIND": {
        const name = typeDefName(def);
        const own = dep.typeNames.get(name);
        if (own) return own;
        this.coreValues.add(name);
        return name;
      }
      case "SCALAR_KIND": {
        const name = typeDefName(def);
        this.coreTypes.add(name);
        return name;
      }
      default:
        throw new Error(`engine double: codegen: a ${def.kind} in a module dependency is not implemented`);
    }
  }

  private isLeaf(def: TypeDefV): boolean {
    if (def.kind === "LIST_KIND") return this.isLeaf(def.list!.elementType);
    return def.kind !== "OBJECT_KIND";
  }

  private objectName(dep: LoadedDependency, def: TypeDefV): string {
    const name = typeDefName(def);
    return dep.typeNames.get(name) ?? name;
  }

  // ---- classes -----------------------------------------------------------------------------

  private objectClass(dep: LoadedDependency, def: ObjectTypeDefV, typeName: string): string {
    const lines: string[] = [];
    const scalars = [{ name: "id", type: `${typeName}ID`, description: `A unique identifier for this ${typeName}.` }];
    for (const f of def.fields) if (this.isLeaf(f.typeDef)) scalars.push({ name: gqlName(f.name), type: this.tsType(dep, f.typeDef), description: f.description });
    const opts: string[] = [];
    lines.push(`/**\n * The \`${typeName}ID\` scalar type represents an identifier for an object of type ${typeName}.\n */`, `export type ${typeName}ID = string & { __${typeName}ID: never };`, "");
    lines.push(...comment(def.description, ""));
    lines.push(`export class ${typeName} extends BaseClient {`);
    for (const s of scalars) lines.push(`  private readonly _${s.name}?: ${s.type} = undefined;`);
    lines.push("", "  /**", "   * Constructor is used for internal usage only, do not create object from it.", "   */");
    lines.push(`  constructor(ctx?: Context${scalars.map((s) => `, _${s.name}?: ${s.type}`).join("")}) {`, "    super(ctx);");
    for (const s of scalars) lines.push(`    this._${s.name} = _${s.name};`);
    lines.push("  }");
    for (const s of scalars) {
      lines.push("", ...comment(s.description, "  "));
      lines.push(`  ${tsName(s.name)} = async (): Promise<${s.type}> => {`);
      lines.push(`    if (this._${s.name}) {`, `      return this._${s.name};`, "    }");
      lines.push(`    const ctx = this._ctx.select("${s.name}");`, `    const response: Awaited<${s.type}> = await ctx.execute();`, "    return response;", "  };");
    }
    for (const f of def.fields) {
      if (this.isLeaf(f.typeDef)) continue;
      lines.push("", ...this.method(dep, typeName, { name: f.name, description: f.description, returnType: f.typeDef, args: [] }, opts));
    }
    for (const fn of def.functions) lines.push("", ...this.method(dep, typeName, fn, opts));
    if (def.functions.some((fn) => fn.returnType.kind === "OBJECT_KIND" && typeDefName(fn.returnType) === def.name)) {
      lines.push(
        "",
        "  /**",
        `   * Call the provided function with current ${typeName}.`,
        "   *",
        "   * This is useful for reusability and readability by not breaking the calling chain.",
        "   */",
        `  with = (arg: (param: ${typeName}) => ${typeName}) => {`,
        "    return arg(this);",
        "  };",
      );
    }
    lines.push("}");
    return [...opts, ...lines].join("\n");
  }

  private client(): string {
    const opts: string[] = [];
    const lines = [
      "/**",
      " * The Dagger API with this module's dependencies, e.g. `dag." + [...this.scope.constructors.keys()][0] + "()`.",
      " */",
      "export class Client extends CoreClient {",
    ];
    let first = true;
    for (const [field, entry] of this.scope.constructors) {
      if (!first) lines.push("");
      first = false;
      const ctor: FunctionV = {
        name: field,
        description: entry.def.description || entry.dep.typedefs.description,
        returnType: { kind: "OBJECT_KIND", optional: false, name: entry.def.name },
        args: entry.def.ctor?.args ?? [],
      };
      lines.push(...this.method(entry.dep, "Client", ctor, opts));
    }
    // The legacy view's loaders (v0.21 clients): an ID read from a result serves that result again.
    for (const { typeName } of this.scope.byType.values()) {
      lines.push(
        "",
        "  /**",
        `   * Load a ${typeName} from its ID.`,
        "   */",
        `  load${typeName}FromID = (id: ${typeName}ID): ${typeName} => {`,
        `    const ctx = this._ctx.select("load${typeName}FromID", { id });`,
        `    return new ${typeName}(ctx);`,
        "  };",
      );
    }
    lines.push("}");
    return [...opts, ...lines].join("\n");
  }

  /** One function as a method: lazy when it returns an object, a query when it returns a leaf or a list of objects. */
  private method(dep: LoadedDependency, parentClass: string, fn: FunctionV, opts: string[]): string[] {
    const name = gqlName(fn.name);
    const required = fn.args.filter((a) => !a.typeDef.optional && a.defaultValue === undefined && !a.defaultPath);
    const optional = fn.args.filter((a) => !required.includes(a));
    const optsType = `${parentClass}${name.charAt(0).toUpperCase()}${name.slice(1)}Opts`;
    if (optional.length) {
      opts.push(`export type ${optsType} = {`);
      for (const a of optional) opts.push(...comment(argDoc(a), "  "), `  ${gqlName(a.name)}?: ${this.tsType(dep, a.typeDef)};`);
      opts.push("};", "");
    }
    const params = required.map((a) => `${tsName(gqlName(a.name))}: ${this.tsType(dep, a.typeDef)}`);
    if (optional.length) params.push(`opts?: ${optsType}`);
    const selectArgs = [...required.map((a) => (tsName(gqlName(a.name)) === gqlName(a.name) ? gqlName(a.name) : `${gqlName(a.name)}: ${tsName(gqlName(a.name))}`)), ...(optional.length ? ["...opts"] : [])];
    const select = `this._ctx.select("${name}"${selectArgs.length ? `, { ${selectArgs.join(", ")} }` : ""})`;
    const doc = [fn.description, ...required.map((a) => `@param ${gqlName(a.name)} ${argDoc(a)}`), ...optional.map((a) => `@param opts.${gqlName(a.name)} ${argDoc(a)}`)]
      .filter((x) => x.trim())
      .join("\n");
    const lines = comment(doc, "  ");
    const ret = fn.returnType;
    if (ret.kind === "OBJECT_KIND") {
      const cls = this.objectName(dep, ret);
      if (!dep.typeNames.has(typeDefName(ret))) this.coreValues.add(cls);
      lines.push(`  ${tsName(name)} = (${params.join(", ")}): ${cls} => {`, `    const ctx = ${select};`, `    return new ${cls}(ctx);`, "  };");
    } else if (ret.kind === "LIST_KIND" && !this.isLeaf(ret)) {
      const el = ret.list!.elementType;
      if (el.kind !== "OBJECT_KIND") throw new Error(`engine double: codegen: ${fn.name} returns a list of lists of objects, which is not implemented`);
      const cls = this.objectName(dep, el);
      if (!dep.typeNames.has(typeDefName(el))) this.coreValues.add(cls);
      lines.push(
        `  ${tsName(name)} = async (${params.join(", ")}): Promise<${cls}[]> => {`,
        `    type ${name} = {`,
        "      id: ID;",
        "    };",
        `    const ctx = ${select}.select("id");`,
        `    const response: Awaited<${name}[]> = await ctx.execute();`,
        `    return response.map((r) => new ${cls}(ctx.copy().selectNode(r.id, "${cls}")));`,
        "  };",
      );
    } else if (ret.kind === "VOID_KIND") {
      lines.push(`  ${tsName(name)} = async (${params.join(", ")}): Promise<void> => {`, `    const ctx = ${select};`, "    await ctx.execute();", "  };");
    } else {
      const type = this.tsType(dep, ret);
      lines.push(
        `  ${tsName(name)} = async (${params.join(", ")}): Promise<${type}> => {`,
        `    const ctx = ${select};`,
        `    const response: Awaited<${type}> = await ctx.execute();`,
        "    return response;",
        "  };",
      );
    }
    return lines;
  }
}

function argDoc(a: FunctionArgV): string {
  return a.description.trim();
}

/** A name usable as a TypeScript identifier (reserved words get a trailing underscore). */
function tsName(name: string): string {
  return RESERVED.has(name) ? `${name}_` : name;
}

function comment(text: string, indent: string): string[] {
  const t = text.trim();
  if (!t) return [];
  return [`${indent}/**`, ...t.split("\n").map((l) => `${indent} *${l.trim() ? ` ${l.replaceAll("*/", "*\\/")}` : ""}`), `${indent} */`];
}
