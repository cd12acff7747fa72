import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { scan } from "../../node_modules/@dagger.io/dagger/dist/src/module/introspector/index.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

interface ScannedArg {
  name: string;
  description: string;
  isOptional: boolean;
  /** Set for arguments with a default in code (optional to the engine). */
  defaultValue?: unknown;
  defaultPath?: string;
  type: { kind: string; name?: string; typeDef?: { kind: string; name?: string } };
}
interface ScannedFn {
  name: string;
  description: string;
  cache: string | undefined;
  returnType: { kind: string; name?: string };
  arguments: Record<string, ScannedArg>;
}
interface ScannedObject {
  name: string;
  description: string;
  methods: Record<string, ScannedFn>;
  properties: Record<string, { name: string; isExposed: boolean; description: string }>;
}

// The scanner the engine runs to register the module (as its introspection entrypoint does:
// parse only, no import), over the same files it would get.
const scanned = (await scan([...sources(join(root, "src")), join(root, "sdk/src/api/client.gen.ts")], "circuit-breaker", false)) as unknown as {
  description: string;
  objects: Record<string, ScannedObject>;
};

const main = scanned.objects.CircuitBreaker as ScannedObject;
const describeType = (t: ScannedArg["type"]) =>
  t.kind === "LIST_KIND" ? `[${t.typeDef?.name ?? t.typeDef?.kind}]` : (t.name ?? t.kind);

describe("the module as the engine registers it", () => {
  it("has a documented CircuitBreaker object and a module description", () => {
    expect(main).toBeDefined();
    expect(main.description).toMatch(/^Circuit breakers for Dagger pipelines/);
    expect(scanned.description).toMatch(/^Run CI\/CD workflows under circuit-breaker protection/);
  });

  it("exposes exactly the real functions, state-touching ones never cached", () => {
    const fns = Object.fromEntries(Object.values(main.methods).map((m) => [m.name, m.cache ?? "default"]));
    expect(fns).toEqual({
      execute: "never",
      run: "never",
      protect: "never",
      acquire: "never",
      record: "never",
      cancel: "never",
      metrics: "never",
      status: "never",
      history: "never",
      historyChart: "never",
      reset: "never",
      trip: "never",
      disable: "never",
      prune: "never",
      listWorkflows: "default",
      validateConfig: "default",
    });
  });

  it("gives every function and every argument a description", () => {
    for (const fn of Object.values(main.methods)) {
      expect(fn.description.trim().length, `function ${fn.name}`).toBeGreaterThan(20);
      for (const arg of Object.values(fn.arguments)) {
        expect(arg.description.trim().length, `${fn.name}(${arg.name})`).toBeGreaterThan(5);
      }
    }
    for (const object of ["WorkflowRun", "BreakerPermit"]) {
      const props = Object.values(scanned.objects[object]?.properties ?? {});
      expect(props.length, object).toBeGreaterThan(3);
      for (const prop of props) expect(prop.description.trim().length, `${object}.${prop.name}`).toBeGreaterThan(5);
    }
  });

  it("declares the arguments and types a caller uses", () => {
    const signature = (name: string) =>
      Object.values(Object.values(main.methods).find((m) => m.name === name)?.arguments ?? {}).map(
        (a) => `${a.name}:${describeType(a.type)}${a.isOptional || a.defaultValue !== undefined ? "?" : ""}${a.defaultPath ? `=${a.defaultPath}` : ""}`,
      );
    expect(signature("execute")).toEqual([
      "workflow:STRING_KIND",
      "config:File=/config/dagger.yaml",
      "params:[STRING_KIND]?",
      "secretNames:[STRING_KIND]?",
      "secrets:[Secret]?",
      "source:Directory?",
      "breaker:STRING_KIND?",
      "useCircuitBreaker:BOOLEAN_KIND?",
      "caching:BOOLEAN_KIND?",
      "failureThreshold:INTEGER_KIND?",
      "resetTimeout:INTEGER_KIND?",
      "halfOpenTimeout:INTEGER_KIND?",
      "maxRetries:INTEGER_KIND?",
    ]);
    expect(signature("protect")).toEqual(["container:Container", "breaker:STRING_KIND", "config:File?"]);
    expect(signature("trip")).toEqual(["breaker:STRING_KIND", "duration:INTEGER_KIND?", "config:File?", "secrets:[Secret]?"]);
    expect(signature("reset")).toEqual(["breaker:STRING_KIND", "config:File?", "secrets:[Secret]?"]);
    expect(signature("status")).toEqual(["breaker:STRING_KIND?", "format:STRING_KIND?", "prefix:STRING_KIND?"]);
    expect(signature("metrics")).toEqual(["prefix:STRING_KIND?"]);
    expect(signature("prune")).toEqual(["unusedFor:STRING_KIND", "dryRun:BOOLEAN_KIND?"]);
    const run = Object.values(main.methods).find((m) => m.name === "run");
    expect(run?.returnType).toMatchObject({ kind: "OBJECT_KIND", name: "WorkflowRun" });
  });

  it("warns in protect's help that a past success is replayed from the exec cache, and shows the fix", () => {
    const protect = Object.values(main.methods).find((m) => m.name === "protect");
    expect(protect?.description).toMatch(/served from that cache\s+and recorded as a success without touching the service/);
    expect(protect?.description).toContain('.withEnvVariable("CACHE_BUSTER", Date.now().toString())');
  });

  it("says in execute's and run's help that secret names come from env: URIs when --secret-names is omitted", () => {
    for (const name of ["execute", "run"]) {
      const args = Object.values(Object.values(main.methods).find((m) => m.name === name)?.arguments ?? {});
      const secretNames = args.find((a) => a.name === "secretNames")?.description ?? "";
      expect(secretNames, name).toMatch(/When omitted, each name is\s+taken from its secret's URI \(env:DEPLOY_TOKEN is named DEPLOY_TOKEN\)/);
      expect(secretNames, name).toMatch(/give them for file:\s+and other secrets/);
    }
  });

  it("uses no name the engine reserves (a field or function named id is refused at load)", () => {
    for (const object of Object.values(scanned.objects)) {
      const names = [...Object.values(object.properties).filter((p) => p.isExposed).map((p) => p.name), ...Object.values(object.methods).map((m) => m.name)];
      expect(names, object.name).not.toContain("id");
    }
  });

  it("needs no constructor argument, so it works under MCP", () => {
    const ctor = (main as unknown as { _constructor?: { arguments: Record<string, ScannedArg> } })._constructor;
    for (const arg of Object.values(ctor?.arguments ?? {})) expect(arg.isOptional, arg.name).toBe(true);
  });
});
