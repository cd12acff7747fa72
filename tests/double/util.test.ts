// Pure helpers of the engine double: names, durations, ignore patterns, IDs.
import { describe, expect, it } from "vitest";
import { patternMatcher } from "../../double/store.js";
import { parseDurationMs, toCamel, toKebab, toPascal } from "../../double/util.js";
import { decodeId, encodeId } from "../../double/values.js";

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
