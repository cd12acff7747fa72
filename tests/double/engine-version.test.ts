// A v0.21.8 engine refuses to load a module whose dagger.json `engineVersion` is newer than
// itself or older than its minimum module version (v0.9.9), with its own messages
// (core/schema/modulesource.go, engine/version.go); the double refuses at the same point, when
// it reads dagger.json, before anything is built or registered.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startEngineDouble } from "../../double/index.js";
import { compareVersions, normalizeModuleVersion } from "../../double/engine/engine-version.js";
import { readModuleInfo } from "../../double/engine/module-info.js";
import { repoRoot, tempStateDir, toyModule } from "./helpers/env.js";

/** A copy of the toy module whose dagger.json says `engineVersion`, or has none. */
function toyWithEngineVersion(engineVersion: string | undefined): string {
  const dir = join(mkdtempSync(join(tmpdir(), "dd-version-")), "toy-module");
  cpSync(toyModule, dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(dir, "dagger.json"), "utf8")) as Record<string, unknown>;
  if (engineVersion === undefined) delete config["engineVersion"];
  else config["engineVersion"] = engineVersion;
  writeFileSync(join(dir, "dagger.json"), JSON.stringify(config, null, 2));
  return dir;
}

describe("a module's engineVersion", () => {
  it("refuses a module that needs a newer engine, with the engine's message", async () => {
    expect(() => readModuleInfo(toyWithEngineVersion("v0.21.9"))).toThrow(/^module requires dagger v0\.21\.9, but you have v0\.21\.8$/);
    expect(() => readModuleInfo(toyWithEngineVersion("0.22.0"))).toThrow(/^module requires dagger v0\.22\.0, but you have v0\.21\.8$/);
    // The double refuses to start on it, as `dagger call` fails to load it.
    await expect(startEngineDouble({ stateDir: tempStateDir("version"), moduleDir: toyWithEngineVersion("v0.21.9") })).rejects.toThrow(
      /module requires dagger v0\.21\.9, but you have v0\.21\.8/,
    );
  });

  it("refuses a module older than the engine's minimum module version (v0.9.9)", () => {
    expect(() => readModuleInfo(toyWithEngineVersion("v0.9.8"))).toThrow(/^module requires dagger v0\.9\.8, but support for that version has been removed$/);
  });

  it("loads the unchanged toy, the bounds themselves, a missing version, latest and a prerelease of this engine", () => {
    for (const version of ["v0.21.8", "v0.9.9", undefined, "latest", "v0.21.8-rc.1"]) {
      expect(readModuleInfo(toyWithEngineVersion(version)).name, String(version)).toBe("toy-module");
    }
    expect(readModuleInfo(toyModule).name).toBe("toy-module");
  });

  it("loads this repository's module (dagger.json engineVersion v0.21.8)", () => {
    expect(JSON.parse(readFileSync(join(repoRoot, "dagger.json"), "utf8"))).toMatchObject({ engineVersion: "v0.21.8" });
    expect(readModuleInfo(repoRoot).name).toBe("circuit-breaker");
  });

  it("normalises and compares versions as the engine does", () => {
    expect(normalizeModuleVersion("0.21.9")).toBe("v0.21.9");
    expect(normalizeModuleVersion("")).toBe("v0.9.9");
    expect(normalizeModuleVersion("not-semver")).toBe("v0.11.9"); // what the engine assumes of old, non-semver versions
    expect(compareVersions("v0.21.10", "v0.21.8")).toBe(1); // numeric, not textual
    expect(compareVersions("v0.21.8-rc.1", "v0.21.8")).toBe(-1);
    expect(compareVersions("v0.21", "v0.21.0")).toBe(0);
    expect(compareVersions("v0.21.8+build", "v0.21.8")).toBe(0);
    expect(compareVersions("v1.0.0-alpha.2", "v1.0.0-alpha.10")).toBe(-1);
    expect(compareVersions("v1.0.0-alpha", "v1.0.0-1")).toBe(1); // numeric identifiers sort first
  });
});
