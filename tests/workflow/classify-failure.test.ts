import { describe, expect, it } from "vitest";
import { MATCHED_LINE_LENGTH, MATCHED_LINES, patternProblem } from "../../lib/config/output-pattern.js";
import { parseConfig } from "../../lib/config/parse-config.js";
import { resolveWorkflow } from "../../lib/config/resolve-workflow.js";
import { classifyStepFailure, isRetryable, parseWait, requestedWait } from "../../lib/workflow/classify-failure.js";

const config = parseConfig(
  `
circuit_breaker: { ignored_exit_codes: [75] }
workflows:
  w:
    retry_after: "retry in (\\\\d+\\\\s*[a-z]*)"
    failure_rules:
      - { exit_codes: [7], output: "refused", action: count }
      - { output: "^flaky test", action: ignore }
    steps:
      - { name: guarded, image: alpine, command: [a] }
      - { name: unguarded, image: alpine, command: [a], guarded: false }
`,
  "c.yaml",
);
const w = resolveWorkflow(config, "w");
const [guarded, unguarded] = w.steps as [(typeof w.steps)[0], (typeof w.steps)[0]];
const run = (exitCode: number, stdout = "", stderr = "") => ({ exitCode, stdout, stderr });

describe("classifyStepFailure, in its documented order", () => {
  it("needs every condition of a rule: exit code and output", () => {
    expect(classifyStepFailure(w, unguarded, run(7, "", "connection refused"))).toMatchObject({ counts: true });
    expect(classifyStepFailure(w, unguarded, run(1, "", "connection refused"))).toEqual({ counts: false, rule: 'step "unguarded" guarded: false' });
  });

  it("matches output line by line, case-insensitively, so ^ anchors at a line start", () => {
    expect(classifyStepFailure(w, guarded, run(1, "ok\nFLAKY TEST: retry me\n"))).toEqual({ counts: false, rule: 'workflow "w" failure_rules[1] (ignore)' });
    expect(classifyStepFailure(w, guarded, run(1, "a flaky test\n"))).toEqual({ counts: true, rule: "default: every failure counts" });
  });

  it("falls back to ignored_exit_codes for a guarded step, and to neutral for an unguarded one", () => {
    expect(classifyStepFailure(w, guarded, run(75))).toEqual({ counts: false, rule: "ignored_exit_codes" });
    expect(classifyStepFailure(w, unguarded, run(75))).toEqual({ counts: false, rule: 'step "unguarded" guarded: false' });
  });

  it("looks only at the last lines of the output, each cut short", () => {
    const old = `refused\n${"filler\n".repeat(MATCHED_LINES)}`;
    expect(classifyStepFailure(w, unguarded, run(7, old))).toMatchObject({ counts: false });
    const long = `${"x".repeat(MATCHED_LINE_LENGTH)}refused\n`;
    expect(classifyStepFailure(w, unguarded, run(7, long))).toMatchObject({ counts: false });
    expect(classifyStepFailure(w, unguarded, run(7, `${"filler\n".repeat(MATCHED_LINES - 1)}refused\n`))).toMatchObject({ counts: true });
  });
});

describe("isRetryable", () => {
  it("retries anything without conditions, and only matching failures with them", () => {
    expect(isRetryable(null, run(1))).toBe(true);
    const conditions = [{ exitCodes: null, output: /toomanyrequests/i }, { exitCodes: [28], output: null }];
    expect(isRetryable(conditions, run(1, "", "TOOMANYREQUESTS: slow down"))).toBe(true);
    expect(isRetryable(conditions, run(28))).toBe(true);
    expect(isRetryable(conditions, run(1, "", "assertion failed"))).toBe(false);
  });
});

describe("Retry-After", () => {
  it("reads seconds, or a number with a unit", () => {
    expect(parseWait("120")).toBe(120_000);
    expect(parseWait("2m")).toBe(120_000);
    expect(parseWait("1.5 h")).toBe(5_400_000);
    expect(parseWait("500ms")).toBe(500);
    expect(parseWait("3 fortnights")).toBeNull();
    expect(parseWait("soon")).toBeNull();
  });

  it("takes the last mention in the output and says where it was read", () => {
    const wait = requestedWait(w, "push", run(1, "retry in 5s\n", "retry in 2m\nbye\n"));
    expect(wait).toEqual({ ms: 120_000, source: '"retry in 2m" in the output of step "push"' });
    expect(requestedWait(w, "push", run(1, "nothing to see"))).toBeNull();
  });
});

describe("patternProblem", () => {
  it("refuses invalid patterns, exponential ones, and a retry_after without a capture group", () => {
    expect(patternProblem("(unclosed")).toMatch(/^is not a valid regular expression/);
    expect(patternProblem("(a+)+$")).toMatch(/^can take exponential time/);
    expect(patternProblem("Retry-After: \\d+", "at least one")).toMatch(/^needs a capture group/);
    expect(patternProblem("Retry-After: (\\d+)", "at least one")).toBeUndefined();
    expect(patternProblem("connection refused|503")).toBeUndefined();
  });
});
