// The module side: registration through the SDK's real Register, invocation through its
// real entrypoint in a separate process, and the function cache policies learnt from it.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEngineDouble, type EngineDouble } from "../../double/index.js";
import { callLog, tempStateDir, toyModule } from "./helpers/env.js";

let double: EngineDouble;
let stateDir: string;

beforeAll(async () => {
  stateDir = tempStateDir("module");
  // A fresh registration cache: this file checks the registration itself.
  double = await startEngineDouble({ stateDir, moduleDir: toyModule, registrationCacheDir: mkdtempSync(join(tmpdir(), "dd-reg-")) });
});

afterAll(async () => {
  await double?.close();
});

describe("registration", () => {
  it("learns the module's typedefs from the SDK's own registration", async () => {
    const mod = await double.typedefs();
    expect(mod.description).toMatch(/toy Dagger module/);
    const main = await double.mainObject();
    expect(main.name).toBe("ToyModule");
    const byName = new Map(main.functions.map((f) => [f.name, f]));
    expect([...byName.keys()]).toEqual(expect.arrayContaining(["hello", "incrementNoBuster", "readDefault", "secretLength", "info"]));
    expect(byName.get("increment")?.cachePolicy).toBe("Never");
    expect(byName.get("nonce")?.cachePolicy).toBe("PerSession");
    expect(byName.get("cachedNonce")?.cachePolicy ?? "Default").toBe("Default");
    expect(byName.get("hello")?.description).toBe("Says hello without touching the engine.");
    expect(byName.get("hello")?.args[0]).toMatchObject({ name: "name", defaultValue: '"world"', typeDef: { kind: "STRING_KIND", optional: false } });
    expect(byName.get("readDefault")?.args[0]).toMatchObject({ name: "file", defaultPath: "./data.txt", typeDef: { kind: "OBJECT_KIND", name: "File" } });
    expect(byName.get("describe")?.args[0]?.typeDef).toMatchObject({ kind: "LIST_KIND", list: { elementType: { kind: "STRING_KIND" } } });
    expect(mod.objects.map((o) => o.object?.name)).toContain("ToyInfo");
    expect(callLog(stateDir)).toEqual([]); // registration is not a function call
  }, 180_000);
});

describe("function calls", () => {
  it("invokes functions through the SDK entrypoint and caches them by default", async () => {
    const [hello, first] = await Promise.all([double.call("hello", { name: "double" }), double.call("cached-nonce")]);
    expect(hello).toMatchObject({ value: "hello, double", cached: false, returnType: { kind: "STRING_KIND" } });
    expect(first.cached).toBe(false);
    const second = await double.call("cachedNonce");
    expect(second).toMatchObject({ value: first.value, cached: true });
    expect(callLog(stateDir).map((c) => [c.function, c.cached])).toEqual(
      expect.arrayContaining([
        ["ToyModule.hello", false],
        ["ToyModule.cachedNonce", false],
        ["ToyModule.cachedNonce", true],
      ]),
    );
  }, 180_000);

  it("rejects unknown functions and arguments before starting the module", async () => {
    await expect(double.call("nope")).rejects.toThrow(/unknown function "nope" on ToyModule/);
    await expect(double.call("hello", { nmae: "x" })).rejects.toThrow(/unknown argument --nmae/);
    await expect(double.call("readFile")).rejects.toThrow(/missing required argument --file/);
  });
});
