import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { breakerTemplateProblem, TEMPLATE_PATTERN_FOR_EDITORS } from "../../lib/config/breaker-template.js";
import { ConfigError, listWorkflows, parseConfig, resolveWorkflow, type Config } from "../../lib/config/index.js";
import { policyForBreaker } from "../../lib/dagger/permit-actions.js";
import { CallerError } from "../../lib/protection/errors.js";

const FILE = "config/dagger.yaml";
const STEP = "{ name: a, image: alpine:3.20, command: [echo, hi] }";

/** The error lines parseConfig gives for a workflow whose breaker is `breaker` (as YAML). */
function breakerErrors(breaker: string): string[] {
  try {
    parseConfig(`workflows:\n  w:\n    breaker: ${breaker}\n    steps: [${STEP}]\n`, FILE);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split("\n");
    throw error;
  }
  throw new Error(`expected breaker ${breaker} to be rejected`);
}

/** A registry push guarded per registry; REGION has a default in the workflow's env. */
const REGISTRY_CONFIG = [
  "workflows:",
  "  push-image:",
  "    env:",
  "      REGION: eu",
  "      REGISTRY_HOST: docker.io",
  '    breaker: "registry-${REGISTRY_HOST}-${REGION}"',
  `    steps: [${STEP}]`,
  "  mirror:",
  '    breaker: "mirror-${TARGET}"',
  `    steps: [${STEP}]`,
  "probes:",
  '  "mirror-${TARGET}":',
  "    image: alpine:3.20",
  "    command: [wget, -q, --spider, http://mirror/healthz]",
].join("\n");

const registry = (): Config => parseConfig(REGISTRY_CONFIG, "registry.yaml");

/** The error resolveWorkflow throws, for asserting on its class and message. */
function resolveError(config: Config, workflow: string, params: Record<string, string>): Error {
  try {
    resolveWorkflow(config, workflow, {}, params);
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  throw new Error(`expected workflow ${workflow} with ${JSON.stringify(params)} not to resolve`);
}

describe("templated breaker names at config load", () => {
  it("rejects malformed placeholders at the breaker's value, saying how to write one", () => {
    expect(breakerErrors('"registry-${"')).toEqual([
      `${FILE}:3:14: workflows.w.breaker: breaker name "registry-\${": placeholder "\${" is not closed: end it with "}", e.g. \${REGISTRY_HOST}`,
    ]);
    expect(breakerErrors('"registry-${1X}"')).toEqual([
      `${FILE}:3:14: workflows.w.breaker: breaker name "registry-\${1X}": placeholder "\${1X}": placeholder variable name "1X" is not allowed: start with a letter or "_" and use only letters, digits and "_", e.g. "_1X"`,
    ]);
    expect(breakerErrors('"registry-${}"')).toEqual([
      `${FILE}:3:14: workflows.w.breaker: breaker name "registry-\${}": placeholder "\${}" names no variable: write \${NAME}, e.g. \${REGISTRY_HOST}`,
    ]);
  });

  it("has no literal $: a $ that does not start ${NAME} is rejected, $$ included", () => {
    for (const breaker of ['"reg-$HOST"', '"reg-$$"', '"reg$"']) {
      const [line] = breakerErrors(breaker);
      expect(line, breaker).toMatch(/^config\/dagger\.yaml:3:14: workflows\.w\.breaker: .*"\$" at position \d+ must start a \$\{NAME\} placeholder.*there is no literal "\$"$/);
    }
  });

  it("rejects a template that no values could make a breaker name, naming the fixed text at fault", () => {
    expect(breakerErrors('"-${HOST}"')).toEqual([
      `${FILE}:3:14: workflows.w.breaker: breaker name "-\${HOST}" cannot become a valid breaker name whatever the values: it starts with "-": start with a letter, a digit or a placeholder`,
    ]);
    expect(breakerErrors('"reg ${HOST}/x"')).toEqual([
      `${FILE}:3:14: workflows.w.breaker: breaker name "reg \${HOST}/x" cannot become a valid breaker name whatever the values: the text outside placeholders has characters that are not allowed (" ", "/"): use only letters, digits, ".", "_" and "-"`,
    ]);
    const [tooLong] = breakerErrors(`"${"r".repeat(64)}-\${HOST}"`);
    expect(tooLong).toContain("even with one-character values it is 66 characters long: breaker names are at most 64");
  });

  it("still holds a breaker without placeholders to the breaker-name rules", () => {
    expect(breakerErrors('"a b"')).toEqual([
      `${FILE}:3:14: workflows.w.breaker: breaker name "a b" has characters that are not allowed: start with a letter or digit and use only letters, digits, ".", "_" and "-"`,
    ]);
  });

  it("rejects a placeholder that names a secret of the workflow: its value would be stored and shown", () => {
    const text = [
      "workflows:",
      "  deploy:",
      '    breaker: "deploy-${DEPLOY_TOKEN}"',
      "    steps: [{ name: push, image: alpine:3.20, command: [push], secrets: [DEPLOY_TOKEN] }]",
    ].join("\n");
    expect(() => parseConfig(text, FILE)).toThrow(
      `${FILE}:3:14: workflows.deploy.breaker: breaker "deploy-\${DEPLOY_TOKEN}" of workflow "deploy" uses \${DEPLOY_TOKEN}, which is a secret of this workflow`,
    );
  });

  it("keys probes by the template as written; a probe keyed by one filled name is reported with the right key", () => {
    expect(() => registry()).not.toThrow();
    const text = REGISTRY_CONFIG.replace('  "mirror-${TARGET}":', "  mirror-eu:");
    expect(() => parseConfig(text, FILE)).toThrow(
      `${FILE}:12:3: probes.mirror-eu: no guarded workflow uses breaker "mirror-eu", so this probe would never run: a templated breaker's probe is keyed by the template as written, "mirror-\${TARGET}", and serves every value`,
    );
  });

  it("lists the template as written", () => {
    expect(listWorkflows(registry()).map((row) => [row.name, row.breaker])).toEqual([
      ["push-image", "registry-${REGISTRY_HOST}-${REGION}"],
      ["mirror", "mirror-${TARGET}"],
    ]);
  });

  it("gives editors a template pattern that agrees with the config check (names short of the length limit)", () => {
    const pattern = new RegExp(TEMPLATE_PATTERN_FOR_EDITORS);
    const templateLike = fc.string({ unit: fc.constantFrom("a", "Z", "0", "-", ".", "_", " ", "/", "$", "{", "}", "$", "{", "}"), maxLength: 12 });
    fc.assert(
      fc.property(fc.oneof(templateLike, fc.string({ maxLength: 12 })), (template) => {
        expect(pattern.test(template), template).toBe(breakerTemplateProblem(template) === undefined);
      }),
      { seed: 20261201, numRuns: 3000 },
    );
  });
});

describe("templated breaker names at call time", () => {
  it("fills placeholders from the params, then the workflow's env", () => {
    const config = registry();
    expect(resolveWorkflow(config, "push-image").breakerName).toBe("registry-docker.io-eu");
    expect(resolveWorkflow(config, "push-image", {}, { REGISTRY_HOST: "ghcr.io" }).breakerName).toBe("registry-ghcr.io-eu");
    expect(resolveWorkflow(config, "mirror", {}, { TARGET: "us-east-1" }).breakerName).toBe("mirror-us-east-1");
  });

  it("lets a param win over the workflow's env, as the steps see them", () => {
    const resolved = resolveWorkflow(registry(), "push-image", {}, { REGION: "us", REGISTRY_HOST: "quay.io" });
    expect(resolved.breakerName).toBe("registry-quay.io-us");
  });

  it("keeps --breaker literal: no placeholder is filled and none is needed", () => {
    expect(resolveWorkflow(registry(), "mirror", { breaker: "mirror-by-hand" }).breakerName).toBe("mirror-by-hand");
  });

  it("gives a templated workflow the probe keyed by its template, whatever the values", () => {
    const config = registry();
    for (const target of ["eu", "us"]) {
      expect(resolveWorkflow(config, "mirror", {}, { TARGET: target }).probe?.command).toEqual(["wget", "-q", "--spider", "http://mirror/healthz"]);
    }
  });

  it("reports a variable neither the params nor the env supply at the breaker: key, with the fix", () => {
    const error = resolveError(registry(), "mirror", { REGISTRY_HOST: "ghcr.io" });
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toMatchObject([{ file: "registry.yaml", line: 9, column: 5, path: ["workflows", "mirror", "breaker"] }]);
    expect(error.message).toBe(
      `registry.yaml:9:5: workflows.mirror.breaker: workflow "mirror" uses breaker "mirror-\${TARGET}", but TARGET is neither a --params entry nor in the workflow's env: pass --params TARGET=... or set it in the workflow's env`,
    );
  });

  it("names the variable, where its value came from and what is wrong with it when the filled name is invalid", () => {
    const config = registry();
    const slash = resolveError(config, "push-image", { REGISTRY_HOST: "ghcr.io/acme" });
    expect(slash).toBeInstanceOf(CallerError);
    expect(slash.message).toBe(
      'workflow "push-image": breaker "registry-${REGISTRY_HOST}-${REGION}" cannot be filled: REGISTRY_HOST (from --params) is "ghcr.io/acme", which has characters a breaker name cannot hold ("/"): use only letters, digits, ".", "_" and "-" in the value, or name the breaker with --breaker',
    );
    expect(resolveError(config, "mirror", { TARGET: "eu west" }).message).toContain('TARGET (from --params) is "eu west", which has characters a breaker name cannot hold (" ")');
    expect(resolveError(config, "mirror", { TARGET: "" }).message).toContain("TARGET (from --params) is empty");
    // A long value is cut in the message.
    const long = resolveError(config, "mirror", { TARGET: `${"a".repeat(100)}/` }).message;
    expect(long).toContain(`"${"a".repeat(40)}..."`);
    expect(long).not.toContain("a".repeat(41));
    expect(resolveError(config, "mirror", { TARGET: "a".repeat(60) }).message).toContain("the name would be 67 characters long, at most 64");
  });

  it("checks a value from the workflow's env the same way", () => {
    const config = parseConfig(REGISTRY_CONFIG.replace("REGION: eu", 'REGION: "e/u"'), "registry.yaml");
    expect(resolveError(config, "push-image", {}).message).toContain('REGION (from the workflow\'s env) is "e/u"');
  });

  it("says so in a caller error when a config built in code has no file to point at", () => {
    const config: Config = { workflows: { w: { breaker: "w-${KEY}", steps: [{ name: "a", image: "alpine", command: ["true"] }] } } };
    const error = resolveError(config, "w", {});
    expect(error).toBeInstanceOf(CallerError);
    expect(error.message).toContain("workflows.w.breaker: workflow \"w\" uses breaker \"w-${KEY}\", but KEY is neither");
  });
});

describe("a breaker named outside any workflow (protect, acquire)", () => {
  it("takes its settings from a templated workflow that some values would fill to its name", () => {
    const config = parseConfig(
      [
        "workflows:",
        "  push-image:",
        '    breaker: "registry-${REGISTRY_HOST}"',
        "    circuit_breaker: { failure_threshold: 2 }",
        `    steps: [${STEP}]`,
      ].join("\n"),
      FILE,
    );
    expect(policyForBreaker(config, "registry-ghcr.io").trip).toEqual({ kind: "consecutive", threshold: 2 });
    expect(policyForBreaker(config, "other").trip).toEqual({ kind: "consecutive", threshold: 5 });
  });
});
