import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig, type ConfigProblem } from "../../lib/config/index.js";

const FILE = "config/dagger.yaml";

/** The ConfigError parseConfig throws; fails the test if it does not throw one. */
function configError(text: string): ConfigError {
  try {
    parseConfig(text, FILE);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected parseConfig to throw a ConfigError");
}

const lines = (text: string): string[] => configError(text).message.split("\n");

/** A valid step, for configs that are wrong elsewhere. */
const STEP = "{ name: a, image: alpine:3.20, command: [echo, hi] }";

describe("unknown keys", () => {
  it("points at the misspelt key itself and suggests the nearest valid key", () => {
    const error = configError(
      [
        "workflows:",
        "  deploy:",
        "    steps:",
        "      - name: build",
        "        image: alpine:3.20",
        "        imgae: alpine:3.20",
        "        command: [echo]",
      ].join("\n"),
    );
    expect(error.message).toBe(`${FILE}:6:9: workflows.deploy.steps[0].imgae: unknown key "imgae"; did you mean "image"?`);
    expect(error.problems).toEqual<ConfigProblem[]>([
      {
        file: FILE,
        line: 6,
        column: 9,
        path: ["workflows", "deploy", "steps", 0, "imgae"],
        message: 'unknown key "imgae"; did you mean "image"?',
      },
    ]);
  });

  it("finds snake_case keys written in camelCase", () => {
    expect(lines(`circuit_breaker:\n  failureThreshold: 3\nworkflows:\n  w:\n    steps: [${STEP}]\n`)).toEqual([
      `${FILE}:2:3: circuit_breaker.failureThreshold: unknown key "failureThreshold"; did you mean "failure_threshold"?`,
    ]);
  });

  it("says where a breaker key belongs when it is written directly under a workflow", () => {
    expect(lines(`workflows:\n  w:\n    failure_threshold: 3\n    steps: [${STEP}]\n`)).toEqual([
      `${FILE}:3:5: workflows.w.failure_threshold: unknown key "failure_threshold" here: move it under circuit_breaker:`,
    ]);
  });

  it("lists the allowed keys when nothing is close", () => {
    expect(lines(`retry:\n  zzzzzzzz: 1\nworkflows:\n  w:\n    steps: [${STEP}]\n`)).toEqual([
      `${FILE}:2:3: retry.zzzzzzzz: unknown key "zzzzzzzz": allowed keys are max_retries, backoff_factor, jitter`,
    ]);
  });
});

describe("wrong values", () => {
  it("reports each bad value at the value, with what was expected and what was found", () => {
    const text = [
      "circuit_breaker:",
      "  failure_threshold: five",
      "  reset_timeout: -1",
      "  trip_policy: consecutve",
      "  failure_rate_threshold: 1.5",
      "  ignored_exit_codes: [75, 256]",
      "retry:",
      "  jitter: 2",
      "workflows:",
      "  w:",
      "    use_circuit_breaker: yes",
      `    steps: [${STEP}]`,
    ].join("\n");
    expect(lines(text)).toEqual([
      `${FILE}:2:22: circuit_breaker.failure_threshold: must be a whole number >= 1, got "five"`,
      `${FILE}:3:18: circuit_breaker.reset_timeout: must be a number of seconds > 0, got -1`,
      `${FILE}:4:16: circuit_breaker.trip_policy: must be "consecutive" or "failure_rate", got "consecutve"; did you mean "consecutive"?`,
      `${FILE}:5:27: circuit_breaker.failure_rate_threshold: must be a fraction > 0 and <= 1 (0.5 means 50%), got 1.5`,
      `${FILE}:6:28: circuit_breaker.ignored_exit_codes[1]: must be a whole number from 0 to 255, got 256`,
      `${FILE}:8:11: retry.jitter: must be a fraction from 0 to 1, got 2`,
      `${FILE}:11:26: workflows.w.use_circuit_breaker: must be true or false, got "yes"`,
    ]);
  });

  it("rejects a command given as a plain string and says to use a list", () => {
    const text = ["workflows:", "  w:", "    steps:", "      - name: a", "        image: alpine:3.20", "        command: echo hi"].join(
      "\n",
    );
    expect(lines(text)).toEqual([
      `${FILE}:6:18: workflows.w.steps[0].command: must be a list of strings, not a single string: use a list, e.g. ["sh", "-c", "..."]`,
    ]);
  });

  it("rejects an empty command and non-string arguments", () => {
    const text = `workflows:\n  w:\n    steps:\n      - { name: a, image: alpine, command: [] }\n      - { name: b, image: alpine, command: [sleep, 5] }\n`;
    expect(lines(text)).toEqual([
      `${FILE}:4:44: workflows.w.steps[0].command: must not be empty: give the program and its arguments, e.g. ["sh", "-c", "..."]`,
      `${FILE}:5:52: workflows.w.steps[1].command[1]: must be a string, got 5: quote the value, e.g. "5"`,
    ]);
  });

  it("points at the key when a value is left empty", () => {
    expect(lines(`workflows:\n  w:\n    steps:\n      - name: a\n        image: alpine\n        command: [x]\n        depends_on:\n`)).toEqual([
      `${FILE}:7:9: workflows.w.steps[0].depends_on: must be a list of step names such as [build], got an empty value (null)`,
    ]);
  });
});

describe("env", () => {
  it("rejects env names that are not shell variable names, at the name", () => {
    const text = `workflows:\n  w:\n    env:\n      API-URL: x\n    steps: [${STEP}]\n`;
    expect(lines(text)).toEqual([
      `${FILE}:4:7: workflows.w.env.API-URL: env var name "API-URL" is not allowed: start with a letter or "_" and use only letters, digits and "_", e.g. "API_URL"`,
    ]);
  });

  it("requires string values and says to quote numbers and booleans", () => {
    const text = `workflows:\n  w:\n    env:\n      PORT: 8080\n      DEBUG: true\n    steps: [${STEP}]\n`;
    expect(lines(text)).toEqual([
      `${FILE}:4:13: workflows.w.env.PORT: must be a string, got 8080: quote the value, e.g. "8080"`,
      `${FILE}:5:14: workflows.w.env.DEBUG: must be a string, got true: quote the value, e.g. "true"`,
    ]);
  });

  it("rejects bad and repeated secret names and secrets shadowed by env", () => {
    const text = [
      "workflows:",
      "  w:",
      "    env: { TOKEN: plain }",
      "    steps:",
      "      - { name: a, image: alpine, command: [x], secrets: [TOKEN, KEY, KEY] }",
      "      - { name: b, image: alpine, command: [x], secrets: [my-token] }",
    ].join("\n");
    expect(lines(text)).toEqual([
      `${FILE}:6:59: workflows.w.steps[1].secrets[0]: secret name "my-token" is not allowed: start with a letter or "_" and use only letters, digits and "_", e.g. "my_token"`,
    ]);
    expect(lines(text.replace(", secrets: [my-token]", ""))).toEqual([
      `${FILE}:5:59: workflows.w.steps[0].secrets[0]: secret "TOKEN" is also set in the workflow's env: remove it from env so the secret is what the step sees`,
      `${FILE}:5:71: workflows.w.steps[0].secrets[2]: secret "KEY" is listed twice: remove the repeat`,
    ]);
  });
});

describe("names", () => {
  it("applies the breaker-name rules to workflow, step and breaker names, naming which is wrong", () => {
    const text = [
      "workflows:",
      '  "bad name":',
      `    steps: [${STEP}]`,
      "  ok:",
      '    breaker: "-x"',
      "    steps:",
      '      - { name: "a/b", image: alpine, command: [x] }',
      `  ${"w".repeat(65)}:`,
      `    steps: [${STEP}]`,
    ].join("\n");
    expect(lines(text)).toEqual([
      `${FILE}:2:3: workflows["bad name"]: workflow name "bad name" has characters that are not allowed: start with a letter or digit and use only letters, digits, ".", "_" and "-"`,
      `${FILE}:5:14: workflows.ok.breaker: breaker name "-x" has characters that are not allowed: start with a letter or digit and use only letters, digits, ".", "_" and "-"`,
      `${FILE}:7:17: workflows.ok.steps[0].name: step name "a/b" has characters that are not allowed: start with a letter or digit and use only letters, digits, ".", "_" and "-"`,
      `${FILE}:8:3: workflows.${"w".repeat(65)}: workflow name "${"w".repeat(65)}" is 65 characters long: use at most 64`,
    ]);
  });
});

describe("missing keys", () => {
  it("points at the map that lacks the key and says what to add", () => {
    const text = `workflows:\n  a:\n    steps:\n      - name: s\n        command: [echo]\n  b:\n    description: no steps\n`;
    const error = configError(text);
    expect(error.message.split("\n")).toEqual([
      `${FILE}:4:9: workflows.a.steps[0]: missing required key "image": add image: <container image>, e.g. "alpine:3.20"`,
      `${FILE}:7:5: workflows.b: missing required key "steps": add steps: with at least one step`,
    ]);
    expect(error.problems[0]?.path).toEqual(["workflows", "a", "steps", 0]);
  });

  it("rejects a workflow with zero steps and a config with no workflows", () => {
    expect(lines(`workflows:\n  w:\n    steps: []\n`)).toEqual([
      `${FILE}:3:12: workflows.w.steps: a workflow needs at least one step: add steps: [{ name: ..., image: ..., command: [...] }]`,
    ]);
    expect(lines(`workflows: {}\n`)).toEqual([
      `${FILE}:1:12: workflows: no workflows defined: add at least one, e.g. hello: { steps: [...] }`,
    ]);
    expect(lines(`retry: { max_retries: 1 }\n`)).toEqual([
      `${FILE}:1:1: missing required key "workflows": add workflows: with at least one workflow`,
    ]);
  });
});

describe("step graph", () => {
  it("names the step and the missing depends_on target, with a suggestion", () => {
    const text = [
      "workflows:",
      "  ci:",
      "    steps:",
      "      - { name: build, image: alpine, command: [x] }",
      "      - { name: test, image: alpine, command: [x], depends_on: [biuld] }",
      "      - { name: ship, image: alpine, command: [x], depends_on: [test, nowhere-near] }",
    ].join("\n");
    expect(lines(text)).toEqual([
      `${FILE}:5:65: workflows.ci.steps[1].depends_on[0]: step "test" depends on "biuld", which is not a step of workflow "ci"; did you mean "build"?`,
      `${FILE}:6:71: workflows.ci.steps[2].depends_on[1]: step "ship" depends on "nowhere-near", which is not a step of workflow "ci"; the other steps are: build, test`,
    ]);
  });

  it("rejects duplicate step names at the second one", () => {
    const text = `workflows:\n  w:\n    steps:\n      - { name: a, image: alpine, command: [x] }\n      - { name: a, image: alpine, command: [y] }\n`;
    expect(lines(text)).toEqual([
      `${FILE}:5:17: workflows.w.steps[1].name: duplicate step name "a" (also steps[0]): rename one of them`,
    ]);
  });

  it("names each cycle in depends_on order", () => {
    const text = [
      "workflows:",
      "  w:",
      "    steps:",
      "      - { name: a, image: alpine, command: [x], depends_on: [b] }",
      "      - { name: b, image: alpine, command: [x], depends_on: [c] }",
      "      - { name: c, image: alpine, command: [x], depends_on: [a] }",
      "      - { name: d, image: alpine, command: [x], depends_on: [a, d] }",
    ].join("\n");
    expect(lines(text)).toEqual([
      `${FILE}:4:62: workflows.w.steps[0].depends_on[0]: depends_on forms a cycle: a -> b -> c -> a; remove one of these dependencies`,
      `${FILE}:7:65: workflows.w.steps[3].depends_on[1]: depends_on forms a cycle: d -> d; remove one of these dependencies`,
    ]);
  });

  it("rejects the same dependency listed twice", () => {
    const text = `workflows:\n  w:\n    steps:\n      - { name: a, image: alpine, command: [x] }\n      - { name: b, image: alpine, command: [x], depends_on: [a, a] }\n`;
    expect(lines(text)).toEqual([
      `${FILE}:5:65: workflows.w.steps[1].depends_on[1]: "a" is listed twice in depends_on: remove the repeat`,
    ]);
  });
});

describe("settings that contradict each other", () => {
  it("rejects minimum_calls above window_size at the key that made it so", () => {
    const text = [
      "circuit_breaker:",
      "  window_size: 5",
      "workflows:",
      "  w:",
      "    circuit_breaker:",
      "      minimum_calls: 30",
      "      window_size: 20",
      `    steps: [${STEP}]`,
    ].join("\n");
    expect(lines(text)).toEqual([
      `${FILE}:2:16: circuit_breaker.window_size: minimum_calls (10) is larger than window_size (5): the failure rate could never be decided; lower minimum_calls or raise window_size`,
      `${FILE}:6:22: workflows.w.circuit_breaker.minimum_calls: minimum_calls (30) is larger than window_size (20): the failure rate could never be decided; lower minimum_calls or raise window_size`,
    ]);
  });

  it("accepts minimum_calls equal to window_size and a workflow that fixes a global pair", () => {
    expect(() =>
      parseConfig(`circuit_breaker: { window_size: 10, minimum_calls: 10 }\nworkflows:\n  w:\n    steps: [${STEP}]\n`, FILE),
    ).not.toThrow();
  });

  it("rejects workflows that share a breaker with different breaker settings", () => {
    const text = [
      "workflows:",
      "  deploy:",
      "    breaker: staging",
      `    steps: [${STEP}]`,
      "  smoke:",
      "    breaker: staging",
      "    circuit_breaker: { failure_threshold: 2 }",
      `    steps: [${STEP}]`,
    ].join("\n");
    expect(lines(text)).toEqual([
      `${FILE}:6:14: workflows.smoke.breaker: workflow "smoke" shares breaker "staging" with workflow "deploy" but their circuit_breaker settings differ (failure_threshold: 2 here, 5 there): give them the same settings, e.g. in the global circuit_breaker section, or use separate breakers`,
    ]);
    // Not a conflict when one of them does not use the breaker.
    expect(() => parseConfig(text.replace("    breaker: staging\n    circuit", "    breaker: staging\n    use_circuit_breaker: false\n    circuit"), FILE)).not.toThrow();
  });
});

describe("the file itself", () => {
  it("rejects an empty file and a file of only comments", () => {
    const expected = [`${FILE}:1:1: the file is empty: add a workflows: map with at least one workflow`];
    expect(lines("")).toEqual(expected);
    expect(lines("# nothing here\n\n")).toEqual(expected);
  });

  it("rejects a top level that is not a map", () => {
    expect(lines("- hello\n- world\n")).toEqual([
      `${FILE}:1:1: the top level must be a map with the keys circuit_breaker, retry and workflows, got a list`,
    ]);
    expect(lines("\n\nhello\n")).toEqual([
      `${FILE}:3:1: the top level must be a map with the keys circuit_breaker, retry and workflows, got a single value`,
    ]);
  });

  it("locates YAML syntax errors: duplicate keys, bad indentation, tabs", () => {
    expect(lines(`workflows:\n  a:\n    steps: [${STEP}]\n  a:\n    steps: [${STEP}]\n`)).toEqual([
      `${FILE}:4:3: workflows.a: key "a" appears twice in the same map: remove or rename one of them`,
    ]);
    expect(lines(`workflows:\n  a:\n    steps: []\n   b: 1\n`)).toEqual([
      `${FILE}:4:1: workflows.a.steps: YAML syntax error: all mapping items must start at the same column; indent with spaces so that the keys of one map start in the same column`,
    ]);
    expect(lines(`workflows:\n\ta: 1\n`)).toEqual([
      `${FILE}:2:1: YAML syntax error: tabs are not allowed as indentation; indent with spaces, not tabs`,
    ]);
    expect(lines(`workflows: {}\n---\nworkflows: {}\n`)).toEqual([
      `${FILE}:2:1: the file holds more than one YAML document (a --- line): keep a single document`,
    ]);
  });

  it("locates an alias without an anchor", () => {
    expect(lines(`workflows:\n  a: *nope\n`)).toEqual([
      `${FILE}:2:6: workflows.a: alias *nope has no anchor &nope above it: define the anchor before using it`,
    ]);
  });

  it("reports every problem, sorted by position, each on its own line with file, line, column and path", () => {
    const error = configError(`retry:\n  jitter: 9\ncircuit_breaker:\n  reset_timeout: 0\nworkflows:\n  w:\n    steps: [${STEP}]\n`);
    expect(error.problems.map((p) => [p.line, p.column, p.path.join(".")])).toEqual([
      [2, 11, "retry.jitter"],
      [4, 18, "circuit_breaker.reset_timeout"],
    ]);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("ConfigError");
  });
});

describe("failure classification keys", () => {
  it("locates a bad pattern, an exponential one, an unknown action and an empty rule", () => {
    expect(
      lines(
        [
          "workflows:",
          "  deploy:",
          '    retry_after: "Retry-After: \\\\d+"',
          "    failure_rules:",
          '      - { output: "(unclosed", action: count }',
          '      - { output: "(a+)+$", action: count }',
          "      - { exit_codes: [7], action: cuont }",
          "      - { action: ignore }",
          `    steps: [${STEP}]`,
        ].join("\n"),
      ),
    ).toEqual([
      `${FILE}:3:18: workflows.deploy.retry_after: needs a capture group around the wait, e.g. "Retry-After:\\\\s*(\\\\d+)"`,
      `${FILE}:5:19: workflows.deploy.failure_rules[0].output: is not a valid regular expression: Invalid regular expression: /(unclosed/i: Unterminated group`,
      `${FILE}:6:19: workflows.deploy.failure_rules[1].output: can take exponential time on some output (a repeated group that itself repeats, such as (a+)+): rewrite it without nested repetition`,
      `${FILE}:7:36: workflows.deploy.failure_rules[2].action: must be "count" or "ignore", got "cuont"; did you mean "count"?`,
      `${FILE}:8:9: workflows.deploy.failure_rules[3]: must give exit_codes, output, or both, e.g. { output: "connection refused" }`,
    ]);
  });

  it("locates bad guarded, retry_when, timeout_seconds and probe values", () => {
    expect(
      lines(
        [
          "workflows:",
          "  deploy:",
          "    timeout_seconds: 0",
          "    probe: { image: curlimages/curl, command: curl }",
          "    retry_when: [{ exit_codes: [] }]",
          "    steps:",
          "      - { name: a, image: alpine, command: [a], guarded: maybe }",
        ].join("\n"),
      ),
    ).toEqual([
      `${FILE}:3:22: workflows.deploy.timeout_seconds: must be a whole number >= 1, got 0`,
      `${FILE}:4:47: workflows.deploy.probe.command: must be a list of strings, not a single string: use a list, e.g. ["sh", "-c", "..."]`,
      `${FILE}:5:32: workflows.deploy.retry_when[0].exit_codes: must list at least one exit code, e.g. [7]`,
      `${FILE}:7:58: workflows.deploy.steps[0].guarded: must be true or false, got "maybe"`,
    ]);
  });

  it("rejects a probe for a breaker no guarded workflow uses, with a suggestion", () => {
    expect(
      lines(
        [
          "probes:",
          "  registy: { image: curlimages/curl, command: [curl, -f, https://r.example/v2/] }",
          "workflows:",
          "  push:",
          "    breaker: registry",
          `    steps: [${STEP}]`,
        ].join("\n"),
      ),
    ).toEqual([`${FILE}:2:3: probes.registy: no guarded workflow uses breaker "registy", so this probe would never run; did you mean "registry"?`]);
  });
});
