import { describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config/parse-config.js";
import { alertWorkflowFor } from "../../lib/dagger/control-alerts.js";

const config = parseConfig(
  `
on_transition: page-platform
workflows:
  deploy:
    breaker: staging-api
    on_transition: page-deployers
    steps: [{ name: deploy, image: alpine, command: [deploy] }]
  push:
    breaker: "registry-\${REGISTRY_HOST}"
    env: { REGISTRY_HOST: ghcr.io }
    on_transition: page-registry
    steps: [{ name: push, image: alpine, command: [push] }]
  smoke:
    steps: [{ name: smoke, image: alpine, command: [smoke] }]
  page-platform: { use_circuit_breaker: false, steps: [{ name: page, image: alpine, command: [page] }] }
  page-deployers: { use_circuit_breaker: false, steps: [{ name: page, image: alpine, command: [page] }] }
  page-registry: { use_circuit_breaker: false, steps: [{ name: page, image: alpine, command: [page] }] }
`,
  "dagger.yaml",
);

describe("the alert of a breaker tripped or reset by hand", () => {
  it("is that of a workflow the breaker guards, a templated one included", () => {
    expect(alertWorkflowFor(config, "staging-api")).toBe("page-deployers");
    expect(alertWorkflowFor(config, "registry-quay.io")).toBe("page-registry");
  });

  it("is the file's top-level alert otherwise", () => {
    expect(alertWorkflowFor(config, "smoke")).toBe("page-platform");
    expect(alertWorkflowFor(config, "unknown-breaker")).toBe("page-platform");
  });

  it("is none when the file has no alert for it", () => {
    const quiet = parseConfig("workflows:\n  a: { steps: [{ name: s, image: alpine, command: [x] }] }\n", "quiet.yaml");
    expect(alertWorkflowFor(quiet, "a")).toBeNull();
  });
});
