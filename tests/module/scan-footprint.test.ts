import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

function moduleFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return moduleFiles(full);
    return /\.m?ts$/.test(entry.name) ? [full] : [];
  });
}

describe("what the runtime's scanner loads on every call", () => {
  // The scanner runs ts.createProgram over every file under src/ and follows each string-literal
  // specifier; the per-call start budget (README, BENCHMARKS.md) depends on this staying small.
  const program = ts.createProgram(moduleFiles(join(root, "src")), {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    experimentalDecorators: true,
    noEmit: true,
    paths: { "@dagger.io/dagger": ["./sdk/index.ts"], "@dagger.io/dagger/telemetry": ["./sdk/telemetry.ts"] },
    baseUrl: root,
  });
  const loaded = program.getSourceFiles().map((f) => relative(root, f.fileName));

  it("never reaches lib/, which src/ loads at call time through a computed specifier", () => {
    expect(loaded.filter((f) => f.startsWith("lib/"))).toEqual([]);
  });

  it("never reaches the type declarations of zod, yaml or ioredis", () => {
    expect(loaded.filter((f) => /node_modules\/(zod|yaml|ioredis|safe-regex2)\//.test(f))).toEqual([]);
  });

  it("sees the face and the types it shares with lib/", () => {
    expect(loaded).toEqual(expect.arrayContaining(["src/index.ts", "src/module-api.ts", "src/load-calls.ts", "src/dagger/workflow-run.ts", "src/dagger/breaker-permit.ts"]));
  });
});
