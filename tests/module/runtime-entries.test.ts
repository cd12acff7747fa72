// This module, loaded as the engine's TypeScript runtime loads it: built by the double (the
// cached build, found by digest as the main job finds it), registered, and every file the
// face loads at call time imported in the runtime's Node with the generated sdk/. Registering
// never reaches lib/ (src/ loads it through computed specifiers), so without this a value
// import the sdk/ does not export, or a package only devDependencies hold, passes every fast
// test and fails the first user's call.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { startEngineDouble } from "../../double/index.js";
import { readModuleInfo } from "../../double/engine/module-info.js";
import { buildModule, type ModuleBuild } from "../../double/runtime/build.js";
import { importInRuntime } from "../../double/runtime/entry-imports.js";
import { registrationCache, repoRoot, tempStateDir } from "../double/helpers/env.js";

/** The entries `loadCalls` can load: the keys of `CallEntries` in src/module-api.ts, as lib/dagger/<key>.ts. */
function callEntries(): string[] {
  const file = join(repoRoot, "src", "module-api.ts");
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022);
  const entries = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === "CallEntries");
  if (!entries) throw new Error("src/module-api.ts declares no CallEntries");
  return entries.members.map((m) => {
    if (!m.name || !ts.isStringLiteral(m.name)) throw new Error(`CallEntries member ${m.getText(source)} is not a string-literal entry name`);
    return `lib/dagger/${m.name.text}.ts`;
  });
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

/** Files lib/ loads with a dynamic import of a literal specifier (the Redis store, the manual alert): loaded only when a call needs them. */
function dynamicImports(): string[] {
  return tsFiles(join(repoRoot, "lib")).flatMap((file) =>
    [...readFileSync(file, "utf8").matchAll(/\bimport\(\s*["'](\.[^"']+)["']\s*\)/g)].map((m) =>
      relative(repoRoot, join(file, "..", m[1]!.replace(/\.js$/, ".ts"))),
    ),
  );
}

describe("this module, loaded as the runtime loads it", () => {
  let build: ModuleBuild;
  let mainObject: string | undefined;

  beforeAll(async () => {
    const double = await startEngineDouble({ stateDir: tempStateDir("entries"), moduleDir: repoRoot, registrationCacheDir: registrationCache });
    try {
      mainObject = (await double.mainObject()).name;
    } finally {
      await double.close();
    }
    const info = readModuleInfo(repoRoot);
    build = await buildModule({ moduleDir: info.dir, sourceDigest: info.digest });
  }, 300_000);

  it("registers", () => {
    expect(mainObject).toBe("CircuitBreaker");
  });

  it("finds every call-time entry", () => {
    expect(callEntries()).toEqual(["lib/dagger/workflow-actions.ts", "lib/dagger/permit-actions.ts", "lib/dagger/state-actions.ts", "lib/dagger/config-actions.ts"]);
    expect(dynamicImports()).toEqual(expect.arrayContaining(["lib/store/redis/index.ts", "lib/dagger/control-alerts.ts"]));
  });

  it("imports every call-time entry in the runtime's Node with the generated sdk/", async () => {
    const files = [...new Set([...callEntries(), ...dynamicImports()])];
    const results = await importInRuntime(build, files);
    expect(results.filter((r) => r.error !== undefined)).toEqual([]);
    expect(results.map((r) => r.file)).toEqual(files);
  });
});
