import type { File } from "@dagger.io/dagger";
import { describe, expect, it } from "vitest";
import type { ResolvedStep } from "../../lib/config/resolve-workflow.js";
import { validate, workflowsTable } from "../../lib/dagger/config-actions.js";
import { execute, type ExecuteArgs, type StepExecutorFactory } from "../../lib/dagger/workflow-actions.js";
import { MemoryStateStore } from "../../lib/store/memory-store.js";
import type { StepExecutor, StepRun } from "../../lib/workflow/run-workflow.js";

/**
 * A templated breaker ("registry-${REGISTRY_HOST}") gives each value its own breaker: one
 * failing registry opens its breaker and leaves the others' alone.
 */

const T0 = Date.UTC(2026, 11, 1, 9, 0, 0);

const CONFIG = `
circuit_breaker: { failure_threshold: 2 }
workflows:
  push-image:
    env: { REGISTRY_HOST: docker.io }
    breaker: "registry-\${REGISTRY_HOST}"
    steps:
      - { name: push, image: alpine:3.20, command: [sh, -c, "push to $REGISTRY_HOST"] }
`;

/** Only what `loadConfig` asks of a `File`. */
const fakeFile = (name: string, text: string) => ({ name: async () => name, contents: async () => text }) as unknown as File;

/** Fails for the hosts in `down`, reading the host as a step sees it: params over env. */
function registries(down: Set<string>): { factory: StepExecutorFactory; hosts: string[] } {
  const hosts: string[] = [];
  const factory: StepExecutorFactory = (inputs) => {
    const executor: StepExecutor = {
      async run(step: ResolvedStep): Promise<StepRun> {
        const host = { ...step.env, ...inputs.params }.REGISTRY_HOST ?? "";
        hosts.push(host);
        const failed = down.has(host);
        return { exitCode: failed ? 1 : 0, stdout: failed ? "" : `pushed to ${host}\n`, stderr: failed ? "503\n" : "", durationMs: 5, timedOut: false };
      },
    };
    return executor;
  };
  return { factory, hosts };
}

const call = (params: string[]): ExecuteArgs => ({
  workflow: "push-image",
  config: fakeFile("dagger.yaml", CONFIG),
  params,
  secretNames: [],
  secrets: [],
  source: null,
  overrides: {},
});

async function breakers(store: MemoryStateStore) {
  const read = await store.apply({ op: "read", breakers: null });
  return Object.fromEntries(read.states.map((s) => [s.name, { status: s.status, admitted: s.counters.admitted }]));
}

describe("execute with a templated breaker", () => {
  it("makes one breaker per value of the param, and the env's value when no param is given", async () => {
    const store = new MemoryStateStore(() => T0);
    const { factory, hosts } = registries(new Set());
    expect((await execute(store, call(["REGISTRY_HOST=ghcr.io"]), factory)).breaker).toBe("registry-ghcr.io");
    expect((await execute(store, call(["REGISTRY_HOST=quay.io"]), factory)).breaker).toBe("registry-quay.io");
    expect((await execute(store, call(["REGISTRY_HOST=ghcr.io"]), factory)).breaker).toBe("registry-ghcr.io");
    expect((await execute(store, call([]), factory)).breaker).toBe("registry-docker.io");
    expect(hosts).toEqual(["ghcr.io", "quay.io", "ghcr.io", "docker.io"]);
    expect(await breakers(store)).toEqual({
      "registry-ghcr.io": { status: "closed", admitted: 2 },
      "registry-quay.io": { status: "closed", admitted: 1 },
      "registry-docker.io": { status: "closed", admitted: 1 },
    });
  });

  it("opens only the failing value's breaker", async () => {
    const store = new MemoryStateStore(() => T0);
    const { factory } = registries(new Set(["ghcr.io"]));
    for (let i = 0; i < 3; i += 1) await execute(store, call(["REGISTRY_HOST=ghcr.io"]), factory);
    const healthy = await execute(store, call(["REGISTRY_HOST=quay.io"]), factory);
    expect(healthy.result?.ok).toBe(true);
    const refused = await execute(store, call(["REGISTRY_HOST=ghcr.io"]), factory);
    expect(refused.rejection?.message).toContain('circuit breaker "registry-ghcr.io" is open');
    expect(await breakers(store)).toEqual({
      "registry-ghcr.io": { status: "open", admitted: 2 },
      "registry-quay.io": { status: "closed", admitted: 1 },
    });
  });
});

describe("validate-config and list-workflows with a templated breaker", () => {
  const onlyFromParams = fakeFile("dagger.yaml", CONFIG.replace("    env: { REGISTRY_HOST: docker.io }\n", ""));

  it("accept a template whose variable only a call gives: that is checked per call", async () => {
    await expect(validate(onlyFromParams)).resolves.toBe("dagger.yaml is valid: 1 workflow(s): push-image");
  });

  it("show the template as written", async () => {
    expect(await workflowsTable(onlyFromParams)).toMatch(/^push-image\s+registry-\$\{REGISTRY_HOST\}\s+1\s+yes/m);
  });
});
