import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { listWorkflows, parseConfig, resolveWorkflow } from "../../lib/config/index.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, "utf8");

const exampleFiles = readdirSync(`${root}examples/config`)
  .filter((name) => name.endsWith(".yaml"))
  .map((name) => `examples/config/${name}`);

describe("shipped and example configs", () => {
  it("ships at least two example configs", () => {
    expect(exampleFiles.length).toBeGreaterThanOrEqual(2);
  });

  it.each(["config/dagger.yaml", ...exampleFiles])("%s parses, and every workflow resolves with a description", (path) => {
    const config = parseConfig(read(path), path);
    const rows = listWorkflows(config);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.description, `${path}: ${row.name}`).not.toBe("");
      const resolved = resolveWorkflow(config, row.name);
      expect(resolved.layers.flat().sort()).toEqual(resolved.steps.map((step) => step.name).sort());
    }
  });

  it.each(["config/dagger.yaml", ...exampleFiles])("%s points editors at the generated JSON Schema", (path) => {
    const firstLine = read(path).split("\n")[0];
    const expected = path === "config/dagger.yaml" ? "./dagger.schema.json" : "../../config/dagger.schema.json";
    expect(firstLine).toBe(`# yaml-language-server: $schema=${expected}`);
  });
});

describe("config/dagger.yaml", () => {
  const config = parseConfig(read("config/dagger.yaml"), "config/dagger.yaml");

  it("has the documented example workflows", () => {
    expect(listWorkflows(config).map((row) => row.name)).toEqual([
      "hello",
      "flaky-demo",
      "build-and-test",
      "deploy-staging",
      "smoke-staging",
      "release-staging",
      "push-image",
      "fetch-dependencies",
      "deploy-preview",
      "serve-last-preview",
    ]);
  });

  it("gives push-image one breaker per registry, from --params or else its env", () => {
    expect(listWorkflows(config).find((row) => row.name === "push-image")?.breaker).toBe("registry-${REGISTRY_HOST}");
    expect(resolveWorkflow(config, "push-image").breakerName).toBe("registry-registry.example.com");
    expect(resolveWorkflow(config, "push-image", {}, { REGISTRY_HOST: "ghcr.io" }).breakerName).toBe("registry-ghcr.io");
  });

  it("shows release-staging with build and test unguarded, and deploy guarded behind a health probe", () => {
    const release = resolveWorkflow(config, "release-staging");
    expect(release.steps.map((s) => [s.name, s.guarded])).toEqual([
      ["build", false],
      ["test", false],
      ["deploy", true],
    ]);
    expect(release.probe?.command.join(" ")).toContain("/healthz");
    expect(release.retryAfter?.source).toBe("Retry-After:\\s*(\\d+)");
  });

  it("runs build-and-test as two independent steps, then one that needs both", () => {
    expect(resolveWorkflow(config, "build-and-test").layers).toEqual([["lint", "unit-tests"], ["package"]]);
  });

  it("guards deploy-staging and smoke-staging with the same breaker and the same policy", () => {
    const deploy = resolveWorkflow(config, "deploy-staging");
    const smoke = resolveWorkflow(config, "smoke-staging");
    expect(deploy.breakerName).toBe("staging-api");
    expect(smoke.breakerName).toBe("staging-api");
    expect(smoke.policy).toEqual(deploy.policy);
  });

  it("shows a fleet-wide retry budget with a failure count window, and a fallback behind a rate limit", () => {
    const fetch = resolveWorkflow(config, "fetch-dependencies");
    expect(fetch.policy.retryBudget).toEqual({ ratio: 0.2, minPerMinute: 6, windowMs: 60_000 });
    expect(fetch.policy.trip).toEqual({ kind: "failures-in-time", threshold: 5, windowMs: 600_000 });
    const preview = resolveWorkflow(config, "deploy-preview");
    expect(preview.fallback).toEqual({ workflow: "serve-last-preview", onFailure: false });
    expect(preview.policy.rateLimit).toEqual({ calls: 30, periodMs: 3_600_000 });
    expect(resolveWorkflow(config, "serve-last-preview").breakerName).toBe("serve-last-preview");
  });

  it("makes flaky-demo fail unless SERVICE_UP=true", () => {
    const [step] = resolveWorkflow(config, "flaky-demo").steps;
    expect(step?.env.SERVICE_UP).toBe("false");
    expect(step?.command.join(" ")).toContain('[ "$SERVICE_UP" = "true" ]');
  });

  it("uses only small public alpine images and keeps caching off", () => {
    for (const { name } of listWorkflows(config)) {
      const resolved = resolveWorkflow(config, name);
      expect(resolved.caching).toBe(false);
      for (const step of resolved.steps) expect(step.image).toBe("alpine:3.20");
    }
  });
});
