// The double runs a module the way the engine's TypeScript runtime does (double/runtime/), so
// each way a module can fail to run on an engine fails here too: a value import of a name the
// generated sdk/ does not export, a package src/ imports that only devDependencies hold (the
// runtime installs with --omit=dev), and a root postinstall that needs files the runtime has not
// copied in yet (only package.json, the lockfile and .npmrc are there during the install). Since
// v0.21 the engine loads a module's typedefs without its runtime (the SDK's moduleTypes, see
// module-types.test.ts) and builds the runtime at the first call, so such a module loads, lists
// its functions, and fails at its first function call.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startEngineDouble, type EngineDouble } from "../../double/index.js";
import { rewritePackageJson } from "../../double/runtime/package-json.js";
import { indexTs, SDK_INDEX_VALUES, telemetryTs } from "../../double/runtime/sdk-library.js";
import { rewriteTsconfig } from "../../double/runtime/tsconfig.js";
import { editJson, tempStateDir, toyVariant } from "./helpers/env.js";

let double: EngineDouble | undefined;

afterEach(async () => {
  await double?.close();
  double = undefined;
});

/** Loads the module (its typedefs, which need no runtime), then calls a function that touches nothing. */
async function loadThenCall(moduleDir: string): Promise<unknown> {
  double = await startEngineDouble({ stateDir: tempStateDir("load"), moduleDir, registrationCacheDir: mkdtempSync(join(tmpdir(), "dd-reg-")) });
  const main = await double.mainObject();
  expect(main.functions.map((f) => f.name)).toContain("hello");
  return (await double.call("hello", { name: "toy" })).value;
}

describe("running a module as the runtime does", () => {
  it("fails on a value import of a name the generated sdk/ does not export", async () => {
    const dir = toyVariant((d) => {
      const file = join(d, "src", "index.ts");
      const text = readFileSync(file, "utf8");
      writeFileSync(file, `import { ExecError } from "@dagger.io/dagger";\nexport const isExecError = (e: unknown) => e instanceof ExecError;\n${text}`);
    });
    await expect(loadThenCall(dir)).rejects.toThrow(/does not provide an export named 'ExecError'/);
  }, 180_000);

  it("fails on a package that src/ imports but only devDependencies hold", async () => {
    const dir = toyVariant((d) => {
      editJson(join(d, "package.json"), (pkg) => (pkg["devDependencies"] = { "is-number": "7.0.0" }));
      const file = join(d, "src", "index.ts");
      writeFileSync(file, `import isNumber from "is-number";\nexport const numeric = isNumber;\n${readFileSync(file, "utf8")}`);
    });
    await expect(loadThenCall(dir)).rejects.toThrow(/Cannot find (package|module) 'is-number'/);
  }, 180_000);

  it("fails on a root postinstall that needs files beside package.json and the lockfile", async () => {
    const dir = toyVariant((d) => {
      editJson(join(d, "package.json"), (pkg) => (pkg["scripts"] = { postinstall: "node scripts/setup.mjs" }));
      // The script exists in the module; the runtime has not copied it in when the install runs.
      mkdirSync(join(d, "scripts"));
      writeFileSync(join(d, "scripts", "setup.mjs"), "console.log('set up');\n");
    });
    await expect(loadThenCall(dir)).rejects.toThrow(/npm install --omit=dev" did not complete successfully[\s\S]*scripts\/setup\.mjs/);
  }, 180_000);

  it("runs the unchanged module", async () => {
    expect(await loadThenCall(toyVariant(() => {}))).toBe("hello, toy");
    expect((await double!.typedefs()).description).toMatch(/toy Dagger module/);
  }, 180_000);
});

describe("the files the runtime generates", () => {
  it("rewrites package.json: typescript added only when absent, @dagger.io/dagger removed, type module", () => {
    const out = JSON.parse(
      rewritePackageJson('{ // comment\n "dependencies": { "@dagger.io/dagger": "0.21.8", "zod": "4" }, "devDependencies": { "@dagger.io/dagger": "1" } }'),
    ) as Record<string, Record<string, string>>;
    expect(out["type"]).toBe("module");
    expect(out["dependencies"]).toEqual({ zod: "4", typescript: "5.9.3" });
    expect(out["devDependencies"]).toEqual({});
    const kept = JSON.parse(rewritePackageJson('{ "dependencies": { "typescript": "5.8.2" } }')) as Record<string, Record<string, string>>;
    expect(kept["dependencies"]!["typescript"]).toBe("5.8.2");
  });

  it("forces the sdk/ paths and decorators in tsconfig", () => {
    const out = JSON.parse(rewriteTsconfig('{ "compilerOptions": { "strict": true, "paths": { "x": ["./x"] } } }')) as {
      compilerOptions: { paths: Record<string, string[]>; experimentalDecorators: boolean; strict: boolean };
    };
    expect(out.compilerOptions.paths).toEqual({ x: ["./x"], "@dagger.io/dagger": ["./sdk/index.ts"], "@dagger.io/dagger/telemetry": ["./sdk/telemetry.ts"] });
    expect(out.compilerOptions.experimentalDecorators).toBe(true);
  });

  it("exports from sdk/ only what the runtime's index.ts and telemetry.ts export", () => {
    expect(SDK_INDEX_VALUES).toEqual(["connection", "connect", "Context", "func", "check", "generate", "argument", "object", "field", "enumType", "entrypoint"]);
    expect(indexTs()).not.toMatch(/ExecError|errors/);
    expect(indexTs()).toContain('export * from "./client.gen.js"');
    expect(telemetryTs()).toMatch(/export \{ getTracer \}/);
  });
});
