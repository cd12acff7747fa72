import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../lib/core/policy.js";
import {
  InvalidOverrideError,
  listWorkflows,
  parseConfig,
  resolveWorkflow,
  UnknownWorkflowError,
  type CallOverrides,
} from "../../lib/config/index.js";

const STEP = "{ name: a, image: alpine:3.20, command: [echo, hi] }";

/** Four levels of the same keys: global sets some, workflow "own" sets fewer, "bare" none. */
const layered = parseConfig(
  [
    "circuit_breaker:",
    "  failure_threshold: 7",
    "  reset_timeout: 45",
    "  half_open_timeout: 90",
    "  success_threshold: 3",
    "retry:",
    "  max_retries: 2",
    "  backoff_factor: 0.5",
    "workflows:",
    "  own:",
    "    breaker: shared-api",
    "    use_circuit_breaker: false",
    "    caching: true",
    "    circuit_breaker:",
    "      failure_threshold: 4",
    "      reset_timeout: 20",
    "      slow_call_threshold: 1.5",
    "    retry:",
    "      max_retries: 1",
    "      jitter: 0",
    `    steps: [${STEP}]`,
    "  bare:",
    `    steps: [${STEP}]`,
  ].join("\n"),
  "layered.yaml",
);

describe("precedence: call arguments > workflow > global > built-in defaults", () => {
  it("uses built-in defaults where nothing is set", () => {
    const config = parseConfig(`workflows:\n  w:\n    steps: [${STEP}]\n`, "min.yaml");
    const resolved = resolveWorkflow(config, "w");
    expect(resolved.policy).toEqual(DEFAULT_POLICY);
    expect(resolved.retry).toEqual({ maxRetries: 0, backoffFactorMs: 1000, jitter: 0.1 });
    expect(resolved.breakerName).toBe("w");
    expect(resolved.useCircuitBreaker).toBe(true);
    expect(resolved.caching).toBe(false);
    expect(resolved.description).toBe("");
  });

  it("uses the global sections over defaults", () => {
    const resolved = resolveWorkflow(layered, "bare");
    expect(resolved.policy).toEqual({
      ...DEFAULT_POLICY,
      trip: { kind: "consecutive", threshold: 7 },
      resetTimeoutMs: 45_000,
      halfOpenTimeoutMs: 90_000,
      successThreshold: 3,
    });
    expect(resolved.retry).toEqual({ maxRetries: 2, backoffFactorMs: 500, jitter: 0.1 });
  });

  it("uses the workflow's settings over the global ones, key by key", () => {
    const resolved = resolveWorkflow(layered, "own");
    expect(resolved.policy).toEqual({
      ...DEFAULT_POLICY,
      trip: { kind: "consecutive", threshold: 4 },
      resetTimeoutMs: 20_000,
      halfOpenTimeoutMs: 90_000, // global
      successThreshold: 3, // global
      slowCallThresholdMs: 1500,
    });
    expect(resolved.retry).toEqual({ maxRetries: 1, backoffFactorMs: 500, jitter: 0 });
    expect(resolved.breakerName).toBe("shared-api");
    expect(resolved.useCircuitBreaker).toBe(false);
    expect(resolved.caching).toBe(true);
  });

  it("uses call arguments over everything", () => {
    const overrides: CallOverrides = {
      breaker: "other",
      useCircuitBreaker: true,
      caching: false,
      failureThreshold: 9,
      resetTimeoutSeconds: 2,
      halfOpenTimeoutSeconds: 3,
      maxRetries: 0,
    };
    const resolved = resolveWorkflow(layered, "own", overrides);
    expect(resolved.breakerName).toBe("other");
    expect(resolved.useCircuitBreaker).toBe(true);
    expect(resolved.caching).toBe(false);
    expect(resolved.policy.trip).toEqual({ kind: "consecutive", threshold: 9 });
    expect(resolved.policy.resetTimeoutMs).toBe(2000);
    expect(resolved.policy.halfOpenTimeoutMs).toBe(3000);
    expect(resolved.policy.slowCallThresholdMs).toBe(1500); // not overridable, kept from the workflow
    expect(resolved.retry.maxRetries).toBe(0);
  });

  it("treats null call arguments as not given", () => {
    const unset = { breaker: null, maxRetries: null } as unknown as CallOverrides;
    expect(resolveWorkflow(layered, "own", unset)).toEqual(resolveWorkflow(layered, "own"));
  });

  it("builds a failure-rate trip from the rate keys", () => {
    const config = parseConfig(
      `circuit_breaker: { trip_policy: failure_rate, failure_rate_threshold: 0.25, window_size: 40 }\nworkflows:\n  w:\n    circuit_breaker: { minimum_calls: 12, ignored_exit_codes: [75, 3] }\n    steps: [${STEP}]\n`,
      "rate.yaml",
    );
    const { policy } = resolveWorkflow(config, "w");
    expect(policy.trip).toEqual({ kind: "failure-rate", rate: 0.25, windowSize: 40, minimumCalls: 12 });
    expect(policy.ignoredExitCodes).toEqual([75, 3]);
  });
});

describe("steps", () => {
  it("merges workflow env under step env and fills step defaults", () => {
    const config = parseConfig(
      [
        "workflows:",
        "  w:",
        "    env: { A: from-workflow, B: from-workflow }",
        "    steps:",
        "      - name: one",
        "        image: alpine:3.20",
        "        command: [sh, -c, 'echo $A $B']",
        "        env: { B: from-step }",
        "        workdir: /src",
        "        timeout_seconds: 30",
        "        retries: 2",
        "        secrets: [TOKEN]",
        "        cache_volumes: { /root/.npm: npm-cache }",
        "      - name: two",
        "        image: busybox",
        '        command: ["true"]',
        "        depends_on: [one]",
      ].join("\n"),
      "steps.yaml",
    );
    expect(resolveWorkflow(config, "w").steps).toEqual([
      {
        name: "one",
        image: "alpine:3.20",
        command: ["sh", "-c", "echo $A $B"],
        env: { A: "from-workflow", B: "from-step" },
        workdir: "/src",
        dependsOn: [],
        timeoutSeconds: 30,
        retries: 2,
        secrets: ["TOKEN"],
        cacheVolumes: { "/root/.npm": "npm-cache" },
        guarded: true,
        failureRules: [],
        retryWhen: null,
      },
      {
        name: "two",
        image: "busybox",
        command: ["true"],
        env: { A: "from-workflow", B: "from-workflow" },
        workdir: null,
        dependsOn: ["one"],
        timeoutSeconds: null,
        retries: 0,
        secrets: [],
        cacheVolumes: {},
        guarded: true,
        failureRules: [],
        retryWhen: null,
      },
    ]);
  });

  it("groups steps into layers that depend only on earlier layers, keeping declared order", () => {
    const config = parseConfig(
      [
        "workflows:",
        "  w:",
        "    steps:",
        "      - { name: report, image: alpine, command: [x], depends_on: [test, lint] }",
        "      - { name: lint, image: alpine, command: [x] }",
        "      - { name: test, image: alpine, command: [x], depends_on: [build] }",
        "      - { name: build, image: alpine, command: [x] }",
        "      - { name: docs, image: alpine, command: [x] }",
      ].join("\n"),
      "layers.yaml",
    );
    expect(resolveWorkflow(config, "w").layers).toEqual([["lint", "build", "docs"], ["test"], ["report"]]);
  });
});

describe("unknown workflow", () => {
  it("names the workflow, suggests the nearest and lists the available ones", () => {
    const call = () => resolveWorkflow(layered, "onw");
    expect(call).toThrow(UnknownWorkflowError);
    expect(call).toThrow('unknown workflow "onw"; did you mean "own"? (available workflows: own, bare)');
  });

  it("lists the available workflows when nothing is close, and ignores prototype names", () => {
    expect(() => resolveWorkflow(layered, "constructor")).toThrow(
      'unknown workflow "constructor" (available workflows: own, bare)',
    );
    try {
      resolveWorkflow(layered, "deploy-everything");
    } catch (error) {
      expect(error).toBeInstanceOf(UnknownWorkflowError);
      expect((error as UnknownWorkflowError).available).toEqual(["own", "bare"]);
      expect((error as UnknownWorkflowError).suggestion).toBeUndefined();
    }
  });
});

describe("call argument validation", () => {
  const cases: [CallOverrides, string][] = [
    [{ failureThreshold: 0 }, "--failure-threshold must be a whole number >= 1, got 0"],
    [{ failureThreshold: 2.5 }, "--failure-threshold must be a whole number >= 1, got 2.5"],
    [{ resetTimeoutSeconds: -5 }, "--reset-timeout-seconds must be a number of seconds > 0, got -5"],
    [{ resetTimeoutSeconds: Number.NaN }, "--reset-timeout-seconds must be a number of seconds > 0, got NaN"],
    [{ halfOpenTimeoutSeconds: 0 }, "--half-open-timeout-seconds must be a number of seconds > 0, got 0"],
    [{ maxRetries: -1 }, "--max-retries must be a whole number >= 0, got -1"],
    [
      { breaker: "a b" },
      '--breaker: breaker name "a b" has characters that are not allowed: start with a letter or digit and use only letters, digits, ".", "_" and "-"',
    ],
    [{ caching: "yes" as unknown as boolean }, '--caching must be true or false, got "yes"'],
  ];
  it.each(cases)("rejects %j", (overrides, message) => {
    expect(() => resolveWorkflow(layered, "own", overrides)).toThrow(InvalidOverrideError);
    expect(() => resolveWorkflow(layered, "own", overrides)).toThrow(message);
  });

  it("rejects --failure-threshold for a failure-rate workflow instead of silently changing its trip policy", () => {
    const config = parseConfig(
      `workflows:\n  w:\n    circuit_breaker: { trip_policy: failure_rate }\n    steps: [${STEP}]\n`,
      "rate.yaml",
    );
    expect(() => resolveWorkflow(config, "w", { failureThreshold: 3 })).toThrow(
      '--failure-threshold applies only to trip_policy "consecutive" or "failure_count", but workflow "w" uses "failure_rate": change failure_rate_threshold in the config instead',
    );
    expect(resolveWorkflow(config, "w", { resetTimeoutSeconds: 5 }).policy.resetTimeoutMs).toBe(5000);
  });
});

describe("listWorkflows", () => {
  it("returns one row per workflow in file order", () => {
    expect(listWorkflows(layered)).toEqual([
      { name: "own", description: "", breaker: "shared-api", steps: 1, useCircuitBreaker: false },
      { name: "bare", description: "", breaker: "bare", steps: 1, useCircuitBreaker: true },
    ]);
  });
});
