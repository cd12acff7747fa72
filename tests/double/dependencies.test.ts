// Module dependencies in the engine double, without module processes: a dependency's
// typedefs (as its registration would send them) extend the dependent's schema, queries are
// validated against it and served by invoking the dependency's functions (faked here), the
// engine's names and registration checks apply, and the generated bindings type-check.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSdkFiles } from "../../double/engine/codegen.js";
import { DependencyScope, graphqlLiteral, namespaceObject } from "../../double/engine/dependencies.js";
import { Engine } from "../../double/engine/engine.js";
import { HostServices } from "../../double/engine/host-services.js";
import type { ModuleInfo } from "../../double/engine/module-info.js";
import { validateTypedefs, type ModuleRuntime } from "../../double/engine/module.js";
import { FunctionError, type ResolverEnv, type Session } from "../../double/engine/session.js";
import { sdkDistDir } from "../../double/engine/develop-sdk.js";
import { DoubleServer } from "../../double/engine/server.js";
import { gqlName } from "../../double/util.js";
import { decodeId, encodeId, type FunctionArgV, type FunctionV, type ModuleV, type ObjectTypeDefV, type TypeDefV } from "../../double/engine/values.js";
import { repoRoot, tempStateDir } from "./helpers/env.js";

const t = {
  str: { kind: "STRING_KIND", optional: false } as TypeDefV,
  optStr: { kind: "STRING_KIND", optional: true } as TypeDefV,
  int: { kind: "INTEGER_KIND", optional: false } as TypeDefV,
  obj: (name: string, optional = false): TypeDefV => ({ kind: "OBJECT_KIND", optional, name }),
  list: (el: TypeDefV): TypeDefV => ({ kind: "LIST_KIND", optional: false, list: { elementType: el } }),
};
const arg = (name: string, typeDef: TypeDefV, extra: Partial<FunctionArgV> = {}): FunctionArgV => ({
  name,
  typeDef,
  description: `The ${name}.`,
  defaultPath: "",
  defaultAddress: "",
  ignore: [],
  ...extra,
});
const fn = (name: string, returnType: TypeDefV, args: FunctionArgV[] = [], cachePolicy?: string): FunctionV => ({
  name,
  returnType,
  description: `Does ${name}.`,
  args,
  ...(cachePolicy ? { cachePolicy } : {}),
});

const toyInfo: ObjectTypeDefV = {
  name: "ToyInfo",
  description: "Information about the toy.",
  fields: [
    { name: "name", typeDef: t.str, description: "The toy's name." },
    { name: "legs", typeDef: t.int, description: "How many legs it has." },
  ],
  functions: [fn("greeting", t.str)],
};
const toyModule: ObjectTypeDefV = {
  name: "ToyModule",
  description: "A toy module.",
  fields: [],
  ctor: fn("", t.obj("ToyModule"), [arg("prefix", t.optStr)]),
  functions: [
    fn("hello", t.str, [arg("name", t.str, { defaultValue: '"world"' })]),
    fn("describe", t.str, [arg("items", t.list(t.str)), arg("count", t.int, { defaultValue: "1" })], "Never"),
    fn("info", t.obj("ToyInfo"), [arg("legs", t.int, { defaultValue: "4" })]),
    fn("infos", t.list(t.obj("ToyInfo"))),
    fn("greeter", t.obj("Container")),
    fn("readDefault", t.str, [arg("file", t.obj("File"), { defaultPath: "./data.txt" })]),
    fn("fail", t.str),
    fn("count_items", t.int, [arg("items", t.list(t.str))]),
  ],
};
const typedefs: ModuleV = {
  description: "A toy Dagger module.",
  objects: [
    { kind: "OBJECT_KIND", optional: false, name: "ToyModule", object: toyModule },
    { kind: "OBJECT_KIND", optional: false, name: "ToyInfo", object: toyInfo },
  ],
  enums: [],
  interfaces: [],
};

interface Invocation {
  object: string;
  fnName: string;
  parent: unknown;
  args: Record<string, unknown>;
}

/** A dependency's runtime that answers from a table instead of a module process. */
function fakeRuntime(dir: string, defs: ModuleV, engine: Engine, calls: Invocation[]): ModuleRuntime {
  const info: ModuleInfo = { dir, name: "toy-module", mainObject: "ToyModule", sourceDir: dir, digest: "fake", contextDir: dir, namespace: "mod(toy-module.)", dependencies: [] };
  return {
    info,
    engineStore: engine.store,
    typedefs: async () => defs,
    async invoke(object: string, _fn: FunctionV, fnName: string, parent: unknown, args: Record<string, unknown>) {
      calls.push({ object, fnName, parent, args });
      const answer = (): unknown => {
        if (object === "ToyModule" && fnName === "") return { prefix: args["prefix"] ?? null };
        if (object === "ToyInfo" && fnName === "greeting") return `${(parent as { name: string }).name} has ${(parent as { legs: number }).legs} legs`;
        switch (fnName) {
          case "hello":
            return `${(parent as { prefix: string | null }).prefix ?? ""}hello, ${String(args["name"])}`;
          case "describe":
            return `${(args["items"] as string[]).join("+")} x${String(args["count"])}`;
          case "info":
            return { name: "toy", legs: args["legs"] };
          case "infos":
            return [
              { name: "a", legs: 1 },
              { name: "b", legs: 2 },
            ];
          case "greeter":
            return encodeId({ t: "Container", ops: [{ op: "from", address: "alpine:3.20" }] });
          case "readDefault": {
            const file = decodeId(args["file"] as string, "File");
            return file.t === "File" ? engine.store.getBlob(file.blob).toString("utf8") : "";
          }
          case "fail":
            throw new FunctionError("boom: exit code: 5", [{ name: "exitCode", value: "5" }]);
          case "count_items":
            return (args["items"] as string[]).length;
        }
        throw new Error(`unexpected call ${object}.${fnName}`);
      };
      return { json: JSON.stringify(answer()), cached: false };
    },
  } as unknown as ModuleRuntime;
}

let engine: Engine;
let server: DoubleServer;
let scope: DependencyScope;
let depDir: string;
const calls: Invocation[] = [];
let session: Session;

beforeAll(async () => {
  engine = new Engine(tempStateDir("deps"));
  const env: ResolverEnv = { engine, calls: new Map(), services: new HostServices() };
  server = new DoubleServer(env);
  depDir = mkdtempSync(join(tmpdir(), "dd-dep-"));
  writeFileSync(join(depDir, "data.txt"), "from the dependency's own directory\n");
  scope = await DependencyScope.build(server.schema, [{ name: "toy-module", runtime: fakeRuntime(depDir, typedefs, engine, calls) }]);
  session = { kind: "function", caller: "Consumer.fn", namespace: "consumer", scope };
});

afterAll(async () => {
  await server?.close();
});

async function q(query: string, variables?: Record<string, unknown>, as: Session = session) {
  return server.run(query, as, variables);
}

describe("names", () => {
  it("namespaces a dependency's objects as the engine does", () => {
    expect(namespaceObject("WorkflowRun", "circuit-breaker", "circuit-breaker")).toBe("CircuitBreakerWorkflowRun");
    expect(namespaceObject("CircuitBreaker", "circuit-breaker", "circuit-breaker")).toBe("CircuitBreaker");
    expect(namespaceObject("CircuitBreaker", "cb", "circuit-breaker")).toBe("Cb"); // a dependency renamed in dagger.json
    expect(namespaceObject("CircuitBreakerStats", "cb", "circuit-breaker")).toBe("CbStats");
    expect(namespaceObject("Postman", "post", "post")).toBe("PostPostman"); // not at a word boundary
  });

  it("gives registered names their GraphQL form (strcase.ToLowerCamel)", () => {
    expect(gqlName("circuitBreakerRun_fallback")).toBe("circuitBreakerRunFallback");
    expect(gqlName("circuit-breaker")).toBe("circuitBreaker");
    expect(gqlName("count_items")).toBe("countItems");
    expect(gqlName("Hello")).toBe("hello");
  });

  it("writes argument defaults as GraphQL literals", () => {
    expect(graphqlLiteral(["a", 'b"c'])).toBe('["a", "b\\"c"]');
    expect(graphqlLiteral({ k: 1, on: true, none: null })).toBe("{k: 1, on: true, none: null}");
  });
});

describe("the extended schema", () => {
  it("has the constructor on Query, the objects namespaced, IDs for object arguments, defaults and defaultPath", () => {
    expect(scope.sdl).toContain('"A toy module." toyModule("The prefix." prefix: String): ToyModule!');
    expect(scope.sdl).toContain('hello("The name." name: String! = "world"): String!');
    expect(scope.sdl).toContain('readDefault("The file." file: ID @expectedType(name: "File") @defaultPath(path: "./data.txt")): String!');
    expect(scope.sdl).toContain("info(\"The legs.\" legs: Int! = 4): ToyModuleToyInfo!");
    expect(scope.sdl).toContain("infos: [ToyModuleToyInfo!]!");
    expect(scope.sdl).toContain("countItems(");
    expect(scope.sdl).toMatch(/type ToyModuleToyInfo implements Node \{\n {2}"A unique identifier for this ToyModuleToyInfo." id: ID!/);
  });

  it("validates every query against it, and only the dependent module's calls see it", async () => {
    const bad = await q("{ toyModule { nope } }");
    expect(bad.errors?.[0]?.message).toMatch(/Cannot query field "nope" on type "ToyModule"/);
    const client = await q("{ toyModule { hello } }", undefined, { kind: "client", caller: "client", namespace: "" });
    expect(client.errors?.[0]?.message).toMatch(/Cannot query field "toyModule" on type "Query"/);
    const wrongArg = await q('{ toyModule { hello(nom: "x") } }');
    expect(wrongArg.errors?.[0]?.message).toMatch(/Unknown argument "nom"/);
  });
});

describe("serving a dependency's fields", () => {
  it("calls the constructor and functions with defaults applied, under their registered names", async () => {
    calls.length = 0;
    const r = await q('{ toyModule(prefix: "> ") { hello describe(items: ["a", "b"]) countItems(items: ["x", "y", "z"]) } }');
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ toyModule: { hello: "> hello, world", describe: "a+b x1", countItems: 3 } });
    expect(calls.map((c) => [c.object, c.fnName, c.args])).toEqual([
      ["ToyModule", "", { prefix: "> " }],
      ["ToyModule", "hello", { name: "world" }],
      ["ToyModule", "describe", { items: ["a", "b"], count: 1 }],
      ["ToyModule", "count_items", { items: ["x", "y", "z"] }],
    ]);
    expect(calls.slice(1).every((c) => JSON.stringify(c.parent) === '{"prefix":"> "}')).toBe(true);
  });

  it("returns module objects with fields, functions and an ID that node(id:) loads without calling again", async () => {
    const r = await q("{ toyModule { info(legs: 6) { id name legs greeting } infos { name legs } } }");
    expect(r.errors).toBeUndefined();
    const info = (r.data as { toyModule: { info: { id: string; name: string; legs: number; greeting: string } } }).toyModule.info;
    expect(info).toMatchObject({ name: "toy", legs: 6, greeting: "toy has 6 legs" });
    expect((r.data as { toyModule: { infos: unknown } }).toyModule.infos).toEqual([
      { name: "a", legs: 1 },
      { name: "b", legs: 2 },
    ]);
    expect(info.id).toMatch(/^dbl1\.ToyModuleToyInfo\./);
    calls.length = 0;
    const loaded = await q("query($id: ID!) { node(id: $id) { ... on ToyModuleToyInfo { legs greeting } } }", { id: info.id });
    expect(loaded.data).toEqual({ node: { legs: 6, greeting: "toy has 6 legs" } });
    expect(calls.map((c) => `${c.object}.${c.fnName}`)).toEqual(["ToyInfo.greeting"]); // not info() again
    const asClient = await q("query($id: ID!) { node(id: $id) { id } }", { id: info.id }, { kind: "client", caller: "client", namespace: "" });
    expect(asClient.errors?.[0]?.message).toMatch(/ToyModuleToyInfo/); // not a type of the client's schema
  });

  it("turns returned core objects into values, and loads a defaultPath from the dependency's own directory", async () => {
    const r = await q("{ toyModule { greeter { id } readDefault } }");
    expect(r.errors).toBeUndefined();
    const data = r.data as { toyModule: { greeter: { id: string }; readDefault: string } };
    expect(decodeId(data.toyModule.greeter.id, "Container")).toMatchObject({ t: "Container" });
    expect(data.toyModule.readDefault).toBe("from the dependency's own directory\n");
  });

  it("returns a dependency's error with its values as extensions", async () => {
    const r = await q("{ toyModule { fail } }");
    expect(r.errors?.[0]).toMatchObject({ message: "boom: exit code: 5", extensions: { exitCode: 5 } });
  });
});

describe("what the double refuses, as the engine does", () => {
  it("fails loudly for dependency types it cannot serve", async () => {
    const withEnum: ModuleV = { ...typedefs, enums: [{ kind: "ENUM_KIND", optional: false, name: "Mood", enum: { name: "Mood", description: "", members: [] } }] };
    await expect(
      DependencyScope.build(server.schema, [{ name: "toy-module", runtime: fakeRuntime(depDir, withEnum, engine, []) }]),
    ).rejects.toThrow(/an enum \(Mood, of toy-module\) in a module dependency is not implemented/);
  });

  it("rejects an object field or function named id, and a dependency's type in the dependent's own signatures", () => {
    const isCore = (name: string) => ["Container", "File"].includes(name);
    const withId: ModuleV = {
      ...typedefs,
      objects: [{ kind: "OBJECT_KIND", optional: false, name: "Permit", object: { ...toyInfo, name: "Permit", fields: [{ name: "id", typeDef: t.str, description: "" }] } }],
    };
    expect(() => validateTypedefs("circuit-breaker", withId, isCore, () => undefined)).toThrow(
      'engine double: failed to add object to module "circuit-breaker": failed to validate type def: cannot define field with reserved name "id" on object "Permit"',
    );
    const consumer: ModuleV = {
      description: "",
      enums: [],
      interfaces: [],
      objects: [{ kind: "OBJECT_KIND", optional: false, name: "Consumer", object: { name: "Consumer", description: "", fields: [], functions: [fn("run", t.obj("ToyModuleToyInfo"))] } }],
    };
    expect(() => validateTypedefs("consumer", consumer, isCore, (name) => scope.dependencyOfType(name))).toThrow(
      /object "Consumer" function "run" cannot return external type from dependency module "toy-module"/,
    );
    const fine: ModuleV = { ...consumer, objects: [{ ...consumer.objects[0]!, object: { ...consumer.objects[0]!.object!, functions: [fn("run", t.obj("Container"))] } }] };
    expect(() => validateTypedefs("consumer", fine, isCore, (name) => scope.dependencyOfType(name))).not.toThrow();
  });
});

describe("generated bindings", () => {
  it("are lazy chains for objects, queries for leaves, with Opts types, a Client extending the SDK's, and type-check strictly", () => {
    const dir = mkdtempSync(join(tmpdir(), "dd-bindings-"));
    const sdkDir = join(dir, "sdk");
    const files = generateSdkFiles(scope, "consumer", sdkDir, sdkDistDir(repoRoot));
    const gen = files["client.gen.ts"]!;
    expect(gen).toContain("export class Client extends CoreClient {");
    expect(gen).toContain("toyModule = (opts?: ClientToyModuleOpts): ToyModule => {");
    expect(gen).toContain("describe = async (items: string[], opts?: ToyModuleDescribeOpts): Promise<string> => {");
    expect(gen).toContain("info = (opts?: ToyModuleInfoOpts): ToyModuleToyInfo => {");
    expect(gen).toContain("greeter = (): Container => {");
    expect(gen).toContain('return response.map((r) => new ToyModuleToyInfo(ctx.copy().selectNode(r.id, "ToyModuleToyInfo")));');
    expect(gen).toContain('countItems = async (items: string[]): Promise<number> => {\n    const ctx = this._ctx.select("countItems", { items });');
    expect(gen).toContain("readDefault = async (opts?: ToyModuleReadDefaultOpts): Promise<string> => {");
    expect(gen).toContain("export const dag = new Client();");
    expect(files["index.ts"]).toContain('export { Client, dag } from "./client.gen.js";');

    for (const [name, text] of Object.entries(files)) {
      mkdirSync(sdkDir, { recursive: true });
      writeFileSync(join(sdkDir, name), text);
    }
    mkdirSync(join(dir, "src"));
    writeFileSync(
      join(dir, "src/use.ts"),
      [
        'import { dag, type ToyModuleToyInfo } from "../sdk/index.js";',
        "export async function use(): Promise<string> {",
        "  const info: ToyModuleToyInfo = dag.toyModule({ prefix: \"> \" }).info({ legs: 6 });",
        "  const legs: number = await info.legs();",
        '  const out: string = await dag.toyModule().greeter().withExec(["true"]).stdout();',
        "  const all = await dag.toyModule().infos();",
        "  return `${legs} ${out} ${all.length} ${await dag.container().from(\"alpine\").id()}`;",
        "}",
      ].join("\n"),
    );
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noUncheckedIndexedAccess: true,
          noImplicitOverride: true,
          skipLibCheck: true,
          noEmit: true,
          types: [],
          typeRoots: [join(repoRoot, "node_modules/@types")],
        },
        include: ["src", "sdk"],
      }),
    );
    writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
    const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
    const r = spawnSync(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")], { encoding: "utf8" });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  }, 60_000);
});
