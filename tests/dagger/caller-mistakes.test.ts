import type { File, Secret } from "@dagger.io/dagger";
import { describe, expect, it } from "vitest";
import { execute, type ExecuteArgs } from "../../lib/dagger/workflow-actions.js";
import { MemoryStateStore } from "../../lib/store/memory-store.js";
import { CountingStore } from "../helpers/counting-store.js";

/**
 * Every caller mistake is reported before the breaker is asked: no state request is sent, so
 * no breaker is created and nothing is counted against the workflow's service.
 */

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);

const CONFIG = `
circuit_breaker: { failure_threshold: 3 }
workflows:
  deploy:
    breaker: staging-api
    steps:
      - { name: push, image: alpine:3.20, command: [sh, -c, "echo deploying"], secrets: [DEPLOY_TOKEN] }
  lint:
    steps:
      - { name: lint, image: alpine:3.20, command: [sh, -c, "echo linting"] }
  push-image:
    breaker: "registry-\${REGISTRY_HOST}"
    steps:
      - { name: push, image: alpine:3.20, command: [sh, -c, "echo pushing"] }
`;

/** Only what `loadConfig` asks of a `File`. */
const fakeFile = (name: string, text: string) => ({ name: async () => name, contents: async () => text }) as unknown as File;
/** Only what secret naming and redaction ask of a `Secret`. */
const fakeSecret = (uri: string, value = "secret-value-1234") =>
  ({ uri: async () => uri, name: async () => uri, plaintext: async () => value }) as unknown as Secret;


function world() {
  const inner = new MemoryStateStore(() => T0);
  return { inner, store: new CountingStore(inner) };
}

function args(overrides: Partial<ExecuteArgs> = {}): ExecuteArgs {
  return {
    workflow: "deploy",
    config: fakeFile("dagger.yaml", CONFIG),
    params: [],
    secretNames: [],
    secrets: [fakeSecret("env://DEPLOY_TOKEN")],
    source: null,
    overrides: {},
    ...overrides,
  };
}

const mistakes: [string, Partial<ExecuteArgs>, RegExp][] = [
  ["an unknown workflow", { workflow: "deplyo" }, /unknown workflow "deplyo"; did you mean "deploy"\?/],
  [
    "an invalid config value",
    { config: fakeFile("broken.yaml", CONFIG.replace("failure_threshold: 3", "failure_threshold: zero")) },
    /broken\.yaml:\d+:\d+: circuit_breaker\.failure_threshold: must be a whole number >= 1, got "zero"/,
  ],
  ["a config that is not YAML", { config: fakeFile("broken.yaml", "workflows: [1,2") }, /broken\.yaml:1:\d+: .*YAML syntax error/],
  ["a --params entry without =", { params: ["VERSION=1.2.3", "DRY_RUN"] }, /--params entry "DRY_RUN" is not KEY=VALUE/],
  ["a --params key that is not an env name", { params: ["1X=2"] }, /--params entry "1X=2" is not KEY=VALUE/],
  ["a missing secret", { secrets: [] }, /workflow "deploy" step "push" needs secret DEPLOY_TOKEN/],
  ["a secret under another name", { secrets: [fakeSecret("env://OTHER_TOKEN")] }, /needs secret DEPLOY_TOKEN/],
  [
    "more secret names than secrets",
    { secretNames: ["DEPLOY_TOKEN", "EXTRA"], secrets: [fakeSecret("file:///token")] },
    /--secret-names has 2 name\(s\) but --secrets has 1 secret\(s\)/,
  ],
  ["an out-of-range override", { overrides: { failureThreshold: 0 } }, /--failure-threshold must be/],
  ["an invalid breaker name", { overrides: { breaker: "../escape" } }, /--breaker/],
  [
    "a breaker template variable neither --params nor the workflow's env supplies",
    { workflow: "push-image", secrets: [] },
    /^dagger\.yaml:12:5: workflows\.push-image\.breaker: workflow "push-image" uses breaker "registry-\$\{REGISTRY_HOST\}", but REGISTRY_HOST is neither a --params entry nor in the workflow's env: pass --params REGISTRY_HOST=\.\.\. or set it in the workflow's env$/,
  ],
  [
    "a --params value that makes the templated breaker name invalid",
    { workflow: "push-image", secrets: [], params: ["REGISTRY_HOST=ghcr.io/acme"] },
    /workflow "push-image": breaker "registry-\$\{REGISTRY_HOST\}" cannot be filled: REGISTRY_HOST \(from --params\) is "ghcr\.io\/acme", which has characters a breaker name cannot hold \("\/"\)/,
  ],
];

describe("execute, on a caller mistake", () => {
  for (const [label, given, message] of mistakes) {
    it(`fails on ${label} without a state request and without creating a breaker`, async () => {
      const w = world();
      await expect(execute(w.store, args(given))).rejects.toThrow(message);
      expect(w.store.requests.map((r) => r.op)).toEqual([]);
      const read = await w.inner.apply({ op: "read", breakers: null });
      expect(read.states).toEqual([]);
      expect(read.problems).toEqual([]);
      expect(w.inner.texts.size).toBe(0);
    });
  }

  it("does ask the breaker once the call is well formed (the fakes above are good enough to get there)", async () => {
    const w = world();
    // Forced open, so the well-formed call is refused by the breaker and no step runs.
    await w.inner.apply({ op: "trip", breaker: "staging-api", policy: null, durationMs: null });
    const outcome = await execute(w.store, args({ params: ["VERSION=1.2.3"] }));
    expect(outcome.rejection?.message).toContain('circuit breaker "staging-api" was tripped by hand');
    expect(w.store.requests.map((r) => r.op)).toEqual(["acquire"]);
  });
});
