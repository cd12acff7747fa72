// Pure helpers of the engine double: names, durations, ignore patterns, IDs, namespaces.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLIENT_NAMESPACE, moduleNamespace, volumeDir } from "../../double/index.js";
import { patternMatcher } from "../../double/engine/store.js";
import { parseDurationMs, toCamel, toKebab, toPascal } from "../../double/util.js";
import { decodeId, encodeId } from "../../double/engine/values.js";
import { repoRoot } from "./helpers/env.js";

describe("names", () => {
  it("maps function and argument names like the CLI and the SDK", () => {
    expect(toKebab("incrementNoBuster")).toBe("increment-no-buster");
    expect(toKebab("stateVolume")).toBe("state-volume");
    expect(toKebab("HTTPPort")).toBe("http-port");
    expect(toCamel("increment-no-buster")).toBe("incrementNoBuster");
    expect(toPascal("circuit-breaker")).toBe("CircuitBreaker");
    expect(toPascal("toy-module")).toBe("ToyModule");
    expect(toPascal("my_mod2go")).toBe("MyMod2Go");
  });
});

describe("time-to-live", () => {
  it("parses Go-style durations", () => {
    expect(parseDurationMs("90s")).toBe(90_000);
    expect(parseDurationMs("1h30m")).toBe(5_400_000);
    expect(parseDurationMs("7d")).toBe(604_800_000);
    expect(parseDurationMs("soon")).toBeUndefined();
    expect(parseDurationMs("10 minutes")).toBeUndefined();
  });
});

describe("ignore patterns", () => {
  it("match dockerignore-style, anchored at the root, with negation", () => {
    const m = patternMatcher(["node_modules", "**/*.log", "dist/*", "!dist/keep.txt"]);
    expect(m("node_modules")).toBe(true);
    expect(m("node_modules/x/y.js")).toBe(true);
    expect(m("src/node_modules")).toBe(false);
    expect(m("a/b/c.log")).toBe(true);
    expect(m("dist/out.js")).toBe(true);
    expect(m("dist/keep.txt")).toBe(false);
    expect(m("src/index.ts")).toBe(false);
  });
});

describe("IDs", () => {
  it("encode the value itself and check the expected type", () => {
    const id = encodeId({ t: "CacheVolume", volume: { namespace: "", key: "k" } });
    expect(decodeId(id)).toEqual({ t: "CacheVolume", volume: { namespace: "", key: "k" } });
    expect(() => decodeId(id, "Container")).toThrow(/expected a Container ID, got a CacheVolume ID/);
    expect(() => decodeId("core.Container.xyz")).toThrow(/not an ID issued by the engine double/);
  });
});

describe("cache-volume namespaces", () => {
  it("names a local module's namespace after its name and its source root in the Git repository, as the engine does", () => {
    expect(moduleNamespace("circuit-breaker", repoRoot)).toBe("mod(circuit-breaker.)");
    expect(moduleNamespace("examples", join(repoRoot, "examples", "typescript"))).toBe("mod(examplesexamples/typescript)");
    const outside = mkdtempSync(join(tmpdir(), "dd-ns-"));
    expect(moduleNamespace("loose", outside)).toBe("mod(loose.)");
  });

  it("keeps the client's volumes apart from every module's", () => {
    expect(CLIENT_NAMESPACE).toBe("mainClient");
    const stateDir = mkdtempSync(join(tmpdir(), "dd-ns-state-"));
    expect(volumeDir(stateDir, "k")).not.toBe(volumeDir(stateDir, "k", moduleNamespace("circuit-breaker", repoRoot)));
    expect(volumeDir(stateDir, "k", "mod(circuit-breaker.)")).not.toBe(volumeDir(stateDir, "k", "mod(circuit-breakerexamples/copy)"));
  });
});
