// A v0.21 engine gets a TypeScript module's typedefs from the SDK's moduleTypes: its introspector
// scans src/ alone, beside a synthesized @dagger.io/dagger package and the SDK's typescript, with
// no node_modules of the module, nothing from outside src/, and no module code run
// (double/runtime/introspector.ts). The module's own process (the Register step engines used
// before) sees the whole built module, so the two can disagree; for this repository's module and
// the toy they must not. Where they do: a type imported from outside src/ or from a package does
// not resolve for the introspector, and the SDK's scanner stops with "could not resolve type
// reference for X." (as the SDK's introspection entrypoint says when run in the engine's layout).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startEngineDouble, type EngineDouble } from "../../double/index.js";
import { repoRoot, tempStateDir, toyModule, toyVariant } from "./helpers/env.js";

let double: EngineDouble | undefined;

afterEach(async () => {
  await double?.close();
  double = undefined;
});

/** A double on the module, with a registration cache of its own so that moduleTypes really runs. */
async function load(moduleDir: string): Promise<EngineDouble> {
  double = await startEngineDouble({ stateDir: tempStateDir("types"), moduleDir, registrationCacheDir: mkdtempSync(join(tmpdir(), "dd-reg-")) });
  return double;
}

/** The toy with `code` added at the top of src/index.ts and `files` written beside it. */
function toyWith(code: string, members: string, files: Record<string, string> = {}): string {
  return toyVariant((d) => {
    const index = join(d, "src", "index.ts");
    const text = readFileSync(index, "utf8").replace("export class ToyModule {", `export class ToyModule {\n${members}\n`);
    writeFileSync(index, `${code}\n${text}`);
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(d, path, ".."), { recursive: true });
      writeFileSync(join(d, path), content);
    }
  });
}

describe("typedefs from the SDK's moduleTypes", () => {
  // The live comparison (rather than a committed snapshot) stays right as src/ changes, and
  // a snapshot could only ever be remade from the path it is meant to check.
  it.each([
    ["this repository's module", repoRoot, ["CircuitBreaker", "WorkflowRun", "BreakerPermit"]],
    ["the toy module", toyModule, ["ToyModule", "ToyInfo"]],
  ])("gives %s exactly the typedefs its own Register step gives", async (_label, moduleDir, objects) => {
    const d = await load(moduleDir);
    const scanned = await d.typedefs();
    expect(scanned.objects.map((o) => o.object?.name)).toEqual(objects);
    const functions = scanned.objects.flatMap((o) => o.object?.functions ?? []);
    expect(functions.length).toBeGreaterThan(2);
    for (const fn of functions) expect(fn.description, fn.name).not.toBe("");
    expect(scanned).toEqual(await d.registeredByModule());
  }, 300_000);

  it("runs no module code and installs nothing: a module that throws on import still loads", async () => {
    const dir = toyWith('throw new Error("module code ran");', "");
    const d = await load(dir);
    expect((await d.mainObject()).functions.map((f) => f.name)).toContain("hello");
    await expect(d.call("hello")).rejects.toThrow(/module code ran/);
  }, 180_000);

  it("does not follow a type imported from outside src/, which the module's own process resolves", async () => {
    const dir = toyWith(
      'import type { Legs } from "../lib/legs.js";',
      "  /** Counts legs. */\n  @func()\n  count(legs: Legs): number {\n    return legs;\n  }",
      { "lib/legs.ts": "export type Legs = number;\n" },
    );
    const d = await load(dir);
    await expect(d.typedefs()).rejects.toThrow(/could not resolve type reference for Legs\./);
    // What the module's process made of it (the whole module there): an Int argument.
    const registered = await d.registeredByModule();
    const count = registered.objects.find((o) => o.object?.name === "ToyModule")?.object?.functions.find((f) => f.name === "count");
    expect(count?.args[0]?.typeDef.kind).toBe("INTEGER_KIND");
  }, 180_000);

  it("does not resolve a type from a package: none of the module's node_modules are there", async () => {
    const dir = toyWith(
      'import type { Colour } from "toy-colours";',
      "  /** Paints. */\n  @func()\n  paint(colour: Colour): string {\n    return colour;\n  }",
    );
    await expect((await load(dir)).typedefs()).rejects.toThrow(/could not resolve type reference for Colour\./);
  }, 180_000);
});
