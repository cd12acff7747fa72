// Slow: many module processes. Function cache policies, exec cache-busters and the
// argument types the module relies on, through the SDK's real entrypoint.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEngineDouble, volumeDir, type EngineDouble } from "../../double/index.js";
import { callLog, execLog, registrationCache, tempStateDir, toyModule } from "./helpers/env.js";

let double: EngineDouble;
let stateDir: string;

beforeAll(async () => {
  stateDir = tempStateDir("module-slow");
  double = await startEngineDouble({ stateDir, moduleDir: toyModule, registrationCacheDir: registrationCache });
});

afterAll(async () => {
  await double?.close();
});

describe("function cache policies", () => {
  it("runs `never` every time and `session` once per double process", async () => {
    const [n1, n2, s1, s2] = await Promise.all([
      double.call("increment", { volume: "policy-counter", pause: "0" }),
      double.call("increment", { volume: "policy-counter", pause: "0" }),
      double.call("nonce"),
      double.call("nonce"),
    ]);
    expect([n1.value, n2.value].sort()).toEqual([1, 2]); // both ran; LOCKED, so no lost update
    expect(n1.cached || n2.cached).toBe(false);
    expect(s1.value).toBe(s2.value);

    const other = await startEngineDouble({ stateDir, moduleDir: toyModule, registrationCacheDir: registrationCache });
    try {
      const s3 = await other.call("nonce");
      expect(s3.value).not.toBe(s1.value); // a new session runs it again
    } finally {
      await other.close();
    }
    const incs = execLog(stateDir).filter((l) => l.caller === "ToyModule.increment");
    expect(incs).toHaveLength(2);
    expect(incs[0]?.mounts).toEqual([{ path: "/counter", type: "cache", volume: "policy-counter", namespace: "mod(toy-moduletests/fixtures/toy-module)", sharing: "LOCKED" }]);
  }, 90_000);

  it("a function missing `cache: \"never\"` returns a stale cached result", async () => {
    const first = await double.call("incrementCachedFn", { volume: "cached-fn-counter" });
    const second = await double.call("incrementCachedFn", { volume: "cached-fn-counter" });
    expect(first).toMatchObject({ value: 1, cached: false });
    expect(second).toMatchObject({ value: 1, cached: true });
    expect(execLog(stateDir).filter((l) => l.caller === "ToyModule.incrementCachedFn")).toHaveLength(1);
  }, 60_000);

  it("an exec missing its cache-buster is served from the exec cache with a stale answer", async () => {
    const first = await double.call("incrementNoBuster", { volume: "no-buster-counter" });
    const second = await double.call("incrementNoBuster", { volume: "no-buster-counter" });
    expect(first.value).toBe(1);
    expect(second.value).toBe(1); // the function ran again, the exec did not
    const lines = execLog(stateDir).filter((l) => l.caller === "ToyModule.incrementNoBuster");
    expect(lines.map((l) => l.cached)).toEqual([false, true]);
    writeFileSync(join(volumeDir(stateDir, "no-buster-counter", "mod(toy-moduletests/fixtures/toy-module)"), "count"), "10\n");
    expect((await double.call("increment", { volume: "no-buster-counter", pause: "0" })).value).toBe(11);
  }, 60_000);

  it("does not cache errors, and returns the exec error's details", async () => {
    const a = await double.call("fail", { code: 5 }).then(
      () => undefined,
      (e: unknown) => e as Error & { values?: { name: string; value: string }[] },
    );
    expect(a?.message).toMatch(/exit code: 5/);
    expect(a?.message).toMatch(/about to fail/);
    expect(a?.values).toEqual(
      expect.arrayContaining([
        { name: "exitCode", value: "5" },
        { name: "stderr", value: '"about to fail"' },
      ]),
    );
    await expect(double.call("fail", { code: 5 })).rejects.toThrow(/exit code: 5/);
    expect(callLog(stateDir).filter((c) => c.function === "ToyModule.fail").map((c) => c.cached)).toEqual([false, false]);
    expect(execLog(stateDir).filter((l) => l.caller === "ToyModule.fail").map((l) => [l.cached, l.exitCode])).toEqual([
      [false, 5],
      [false, 5],
    ]);
    expect((await double.call("exitCode", { code: 4 })).value).toBe(4); // expect: ANY
  }, 90_000);
});

describe("arguments and results", () => {
  it("passes File, Secret, Directory and list arguments, and defaultPath", async () => {
    const [file, secret, dflt, dir, list] = await Promise.all([
      double.call("readFile", { file: join(toyModule, "data.txt") }),
      double.call("secretLength", { token: double.setSecret("tok", "12345") }),
      double.call("readDefault"),
      double.call("listDir"),
      double.call("describe", { items: ["x", "y"], count: 2, verbose: true }),
    ]);
    expect(file.value).toBe("hello from the default path\n");
    expect(secret.value).toBe(5);
    expect(dflt.value).toBe("hello from the default path\n");
    expect(dir.value).toEqual([".gitignore", "dagger.json", "data.txt", "package.json", "tsconfig.json"]); // ignore: node_modules, src
    expect(list.value).toBe("x+y x2 (verbose)");
  }, 90_000);

  it("returns core objects as IDs and module objects as their fields", async () => {
    const [greeter, info, script] = await Promise.all([double.call("greeter", { name: "id" }), double.call("info", { legs: 3 }), double.call("script")]);
    expect(typeof greeter.value).toBe("string");
    expect(await double.field(greeter.value as string, "stdout")).toBe("hi id\n");
    expect(info.value).toEqual({ name: "toy", legs: 3 });
    const greeting = await double.callOn("ToyInfo", info.value, "greeting");
    expect(greeting.value).toBe("toy has 3 legs");
    expect(script.value).toBe("toy|toy");
  }, 90_000);
});
