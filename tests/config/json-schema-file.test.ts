import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { configJsonSchemaText } from "../../lib/config/json-schema.js";
import { NAME_PATTERN_FOR_EDITORS } from "../../lib/config/schema.js";
import { validateBreakerName } from "../../lib/core/names.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const tsx = join(root, "node_modules", ".bin", "tsx");
const script = join(root, "scripts", "gen-config-schema.ts");

function runScript(...args: string[]) {
  return spawnSync(tsx, [script, ...args], { cwd: root, encoding: "utf8" });
}

describe("config/dagger.schema.json", () => {
  it("is the committed output of the generator", () => {
    expect(readFileSync(join(root, "config/dagger.schema.json"), "utf8")).toBe(configJsonSchemaText());
  });

  it("is generated deterministically", () => {
    expect(configJsonSchemaText()).toBe(configJsonSchemaText());
  });

  it("describes keys so editors can show help", () => {
    const schema = JSON.parse(configJsonSchemaText()) as {
      properties: { circuit_breaker: { properties: Record<string, { description?: string; default?: unknown }> } };
    };
    const failureThreshold = schema.properties.circuit_breaker.properties.failure_threshold;
    expect(failureThreshold?.description).toBe("Failures that open the breaker: in a row (trip_policy: consecutive), or within window_seconds (trip_policy: failure_count).");
    expect(failureThreshold?.default).toBe(5);
  });

  it("--check passes on the committed file", () => {
    const result = runScript("--check");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  }, 30_000);

  it("--check fails with a clear message when the file has drifted or is missing", () => {
    const dir = mkdtempSync(join(tmpdir(), "schema-check-"));
    const drifted = join(dir, "dagger.schema.json");
    writeFileSync(drifted, configJsonSchemaText().replace("Failures that open", "Calls that open"));
    const result = runScript("--check", drifted);
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(`${drifted} is out of date: run npm run schema:generate`);

    const missing = runScript("--check", join(dir, "absent.json"));
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim()).toBe(`${join(dir, "absent.json")} is out of date (file is missing): run npm run schema:generate`);

    // Generating into the drifted path repairs it.
    expect(runScript(drifted).status).toBe(0);
    expect(readFileSync(drifted, "utf8")).toBe(configJsonSchemaText());
  }, 30_000);

  it("gives editors a name pattern that agrees with validateBreakerName", () => {
    const pattern = new RegExp(NAME_PATTERN_FOR_EDITORS);
    const accepts = (name: string) => {
      try {
        validateBreakerName(name);
        return true;
      } catch {
        return false;
      }
    };
    const nameLike = fc.string({ unit: fc.constantFrom("a", "Z", "0", "-", "_", ".", " ", "/", "é"), maxLength: 10 });
    fc.assert(
      fc.property(fc.oneof(nameLike, fc.string({ maxLength: 10 })), (name) => {
        expect(pattern.test(name)).toBe(accepts(name));
      }),
      { seed: 20261128, numRuns: 2000 },
    );
  });
});
