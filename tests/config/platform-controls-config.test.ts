import { describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config/index.js";
import { resolveWorkflow } from "../../lib/config/resolve-workflow.js";
import { configErrorLine } from "../helpers/config-error-line.js";

const FILE = "config/dagger.yaml";
const STEP = "{ name: a, image: alpine:3.20, command: [echo, hi] }";

const firstLine = (text: string): string => configErrorLine(text, FILE);

describe("config of the platform controls", () => {
  it("resolves the limit, queue, mode, jitter and alert, the workflow's alert winning", () => {
    const config = parseConfig(
      [
        "circuit_breaker: { max_concurrent_calls: 2, queue_timeout: 90, mode: observe, reset_timeout_jitter: 0.2 }",
        "on_transition: page",
        "workflows:",
        `  deploy: { on_transition: page-deployers, steps: [${STEP}] }`,
        `  smoke: { circuit_breaker: { max_concurrent_calls: null, mode: enforce }, steps: [${STEP}] }`,
        `  page: { steps: [${STEP}] }`,
        `  page-deployers: { steps: [${STEP}] }`,
      ].join("\n"),
      FILE,
    );
    const deploy = resolveWorkflow(config, "deploy");
    expect(deploy.policy).toMatchObject({ maxConcurrentCalls: 2, mode: "observe", resetTimeoutJitter: 0.2 });
    expect(deploy.queueTimeoutMs).toBe(90_000);
    expect(deploy.onTransition).toBe("page-deployers");
    const smoke = resolveWorkflow(config, "smoke");
    expect(smoke.policy).toMatchObject({ maxConcurrentCalls: null, mode: "enforce" });
    expect(smoke.onTransition).toBe("page");
  });

  it("defaults to no limit, no queue, enforce, no jitter and no alert", () => {
    const w = resolveWorkflow(parseConfig(`workflows:\n  a: { steps: [${STEP}] }\n`, FILE), "a");
    expect(w.policy).toMatchObject({ maxConcurrentCalls: null, mode: "enforce", resetTimeoutJitter: 0 });
    expect(w.queueTimeoutMs).toBe(0);
    expect(w.onTransition).toBeNull();
  });

  it("locates bad values with what is expected", () => {
    const at = (settings: string) => firstLine(`workflows:\n  a:\n    circuit_breaker: ${settings}\n    steps: [${STEP}]\n`);
    expect(at("{ max_concurrent_calls: 0 }")).toBe(`${FILE}:3:46: workflows.a.circuit_breaker.max_concurrent_calls: must be a whole number >= 1, got 0`);
    expect(at("{ mode: observing }")).toMatch(/^config\/dagger\.yaml:3:\d+: workflows\.a\.circuit_breaker\.mode: must be "enforce" or "observe", got "observing"; did you mean "observe"\?/);
    expect(at("{ reset_timeout_jitter: 2 }")).toMatch(/workflows\.a\.circuit_breaker\.reset_timeout_jitter: must be .*, got 2$/);
    expect(at("{ queue_timeout: -1 }")).toMatch(/workflows\.a\.circuit_breaker\.queue_timeout: must be .*, got -1$/);
  });

  it("locates an alert that names no workflow, with the nearest name", () => {
    expect(firstLine(`on_transition: page-oncal\nworkflows:\n  page-oncall: { steps: [${STEP}] }\n`)).toBe(
      `${FILE}:1:16: on_transition: no workflow named "page-oncal" to run as the alert; did you mean "page-oncall"?`,
    );
  });

  it("locates a cache volume mounted at a relative path", () => {
    expect(firstLine(`workflows:\n  a:\n    steps:\n      - { name: a, image: alpine, command: [x], cache_volumes: { cache: npm } }\n`)).toMatch(
      /^config\/dagger\.yaml:4:\d+: workflows\.a\.steps\[0\]\.cache_volumes\.cache: .*absolute path/,
    );
  });
});
