// Every benchmark stays in `npm run bench:smoke` (which CI runs) with a smoke mode of its own, so
// that a benchmark cannot break unnoticed. Reads files only; runs no benchmark.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { benchmarkScripts, packageScripts, SMOKE_SCRIPT } from "../../bench/lib/benchmark-scripts.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const scripts = packageScripts(repo);
const benchmarks = benchmarkScripts(scripts);

describe("benchmarks in smoke mode", () => {
  it("bench:smoke runs the runner, which takes every bench:* script but itself, in package.json's order", () => {
    expect(scripts[SMOKE_SCRIPT]).toBe("tsx bench/run-smoke.ts");
    expect(benchmarkScripts({ "bench:b": "x", test: "x", [SMOKE_SCRIPT]: "x", "bench:a": "x", bench: "x" })).toEqual(["bench:b", "bench:a"]);
    expect(benchmarks.length).toBeGreaterThan(0);
  });

  it.each(benchmarks)("%s is a benchmark file that has a smoke mode", (name) => {
    const file = /^tsx (bench\/[\w-]+\.ts)$/.exec(scripts[name] ?? "")?.[1];
    // Another form of command would escape the checks below: extend them rather than the pattern.
    expect(file, `${name} should be "tsx bench/<file>.ts", is ${JSON.stringify(scripts[name])}`).toBeDefined();
    expect(existsSync(join(repo, file!))).toBe(true);
    expect(readFileSync(join(repo, file!), "utf8")).toMatch(/from "\.\/lib\/smoke\.js"/);
  });

  it("npm run bench runs every benchmark once, and nothing else", () => {
    const steps = (scripts["bench"] ?? "").split("&&").map((step) => step.trim());
    expect(steps).toEqual(benchmarks.map((name) => `npm run ${name}`));
  });

  it("no benchmark reads a size from the environment past the smoke mode's runSize", () => {
    const files = readdirSync(join(repo, "bench")).filter((f) => f.endsWith(".ts"));
    for (const f of files) {
      expect(readFileSync(join(repo, "bench", f), "utf8"), `bench/${f}`).not.toMatch(/Number\(\s*process\.env/);
    }
  });
});
