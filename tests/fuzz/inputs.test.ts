import fc from "fast-check";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { InvalidNameError, validateBreakerName } from "../../lib/core/names.js";
import { ConfigError } from "../../lib/config/config-error.js";
import { parseConfig } from "../../lib/config/parse-config.js";
import { resolveWorkflow, UnknownWorkflowError } from "../../lib/config/resolve-workflow.js";
import { CallerError } from "../../lib/protection/errors.js";
import { parseParams } from "../../lib/service/call-inputs.js";

const SEED = 424242;
const anyText = fc.string({ unit: "binary", maxLength: 80 });

describe("fuzzed inputs end in a clear error or a valid value, never a crash", () => {
  it("breaker names", () => {
    fc.assert(
      fc.property(anyText, (name) => {
        try {
          expect(validateBreakerName(name)).toBe(name);
          expect(name).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidNameError);
          expect((e as Error).message).toMatch(/^breaker name /);
        }
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it("caller parameters keep their values byte for byte and reject bad keys", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(anyText, anyText), { maxLength: 5 }), (pairs) => {
        const entries = pairs.map(([k, v]) => `${k}=${v}`);
        try {
          const env = parseParams(entries);
          for (const [k, v] of pairs) {
            expect(k).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
            // The last value for a key wins, exactly as written.
            const last = [...pairs].reverse().find(([key]) => key === k);
            expect(env[k]).toBe(last?.[1]);
            expect(v).toBeTypeOf("string");
          }
        } catch (e) {
          expect(e).toBeInstanceOf(CallerError);
          expect((e as Error).message).toMatch(/^--params entry /);
        }
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it("config files: arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        try {
          parseConfig(text, "fuzz.yaml");
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError);
          for (const p of (e as ConfigError).problems) {
            expect(p.file).toBe("fuzz.yaml");
            expect(p.line).toBeGreaterThanOrEqual(1);
            expect(p.column).toBeGreaterThanOrEqual(1);
          }
        }
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it("config files: random structures near the real shape, and step commands kept as written", () => {
    const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null));
    /** Mostly valid values, sometimes anything: enough valid configs to check, enough bad ones to fuzz. */
    const mostly = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 12, arbitrary: valid }, { weight: 1, arbitrary: scalar });
    // Shell metacharacters in commands must come through untouched.
    const word = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom("$(id)", "`id`", "a;b", "'q'", '"dq"', "&&", "|", "\\n"));
    const step = fc.record(
      {
        name: mostly(fc.constantFrom("a", "b", "c")),
        image: mostly(fc.constant("alpine:3.20")),
        command: mostly(fc.array(word, { minLength: 1, maxLength: 4 })),
        timeout_seconds: mostly(fc.integer({ min: 1, max: 100 })),
        retries: mostly(fc.integer({ min: 0, max: 3 })),
      },
      { requiredKeys: ["name", "image", "command"] },
    );
    const config = fc.record(
      {
        circuit_breaker: fc.record({ failure_threshold: mostly(fc.integer({ min: 1, max: 9 })) }, { requiredKeys: [] }),
        workflows: fc.dictionary(mostly(fc.constantFrom("deploy", "smoke", "build")).map(String), fc.record({ steps: fc.array(step, { minLength: 1, maxLength: 1 }) }), { minKeys: 1, maxKeys: 2 }),
      },
      { requiredKeys: ["workflows"] },
    );
    let valid = 0;
    fc.assert(
      fc.property(config, (value) => {
        const text = stringify(value);
        let parsed;
        try {
          parsed = parseConfig(text, "fuzz.yaml");
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError);
          return;
        }
        valid += 1;
        for (const [name, workflow] of Object.entries(value.workflows)) {
          const resolved = resolveWorkflow(parsed, name);
          resolved.steps.forEach((s, i) => expect(s.command).toEqual(workflow.steps[i]?.command));
        }
        expect(() => resolveWorkflow(parsed, "\u0000no-such")).toThrow(UnknownWorkflowError);
      }),
      { seed: SEED, numRuns: 500 },
    );
    expect(valid, "some generated configs must be valid for the command check to mean anything").toBeGreaterThan(10);
  });
});
