// The engine's check of a module's dagger.json `engineVersion` when it loads the module
// (v0.21.8: core/schema/modulesource.go normalises the version as it reads dagger.json, then
// refuses it below engine.MinimumModuleVersion or above the engine's own version; the versions
// and helpers are engine/version.go's). Versions compare as golang.org/x/mod/semver compares them.

/** The engine the double stands in for (engine.Version). */
export const ENGINE_VERSION = "v0.21.8";

/** engine.MinimumModuleVersion: when dagger.json gained `engineVersion`. */
export const MINIMUM_MODULE_VERSION = "v0.9.9";

/** What NormalizeVersion assumes for a version that is not semver (engine/version.go presemverModuleVersion). */
const PRESEMVER_MODULE_VERSION = "v0.11.9";

interface Semver {
  core: [string, string, string];
  prerelease: string[];
}

const NUMBER = "(0|[1-9][0-9]*)";
const IDENT = "[0-9A-Za-z-]+";
// vMAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]]: the shorthands take no suffix.
const SEMVER = new RegExp(`^v${NUMBER}(?:\\.${NUMBER}(?:\\.${NUMBER}(?:-(${IDENT}(?:\\.${IDENT})*))?(?:\\+${IDENT}(?:\\.${IDENT})*)?)?)?$`);

function parse(version: string): Semver | undefined {
  const m = SEMVER.exec(version);
  if (!m) return undefined;
  const prerelease = m[4] ? m[4].split(".") : [];
  // Numeric prerelease identifiers may not have leading zeros.
  if (prerelease.some((p) => /^0[0-9]+$/.test(p))) return undefined;
  return { core: [m[1]!, m[2] ?? "0", m[3] ?? "0"], prerelease };
}

function compareNumeric(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a === b ? 0 : a < b ? -1 : 1;
}

function comparePrerelease(a: string[], b: string[]): number {
  // A release is above its prereleases.
  if (!a.length || !b.length) return a.length === b.length ? 0 : a.length ? -1 : 1;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    const xn = /^[0-9]+$/.test(x);
    const yn = /^[0-9]+$/.test(y);
    if (xn !== yn) return xn ? -1 : 1;
    return xn ? compareNumeric(x, y) : x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** semver.Compare: an invalid version is below every valid one and equal to any other invalid one. */
export function compareVersions(a: string, b: string): number {
  const x = parse(a);
  const y = parse(b);
  if (!x || !y) return x ? 1 : y ? -1 : 0;
  for (let i = 0; i < 3; i++) {
    const c = compareNumeric(x.core[i]!, y.core[i]!);
    if (c) return c;
  }
  return comparePrerelease(x.prerelease, y.prerelease);
}

/** The version the engine records for a module: "" is the minimum, "latest" the engine's, "0.21.8" is "v0.21.8". */
export function normalizeModuleVersion(engineVersion: string | undefined): string {
  if (!engineVersion) return MINIMUM_MODULE_VERSION;
  if (engineVersion === "latest") return ENGINE_VERSION;
  const cleaned = parse(`v${engineVersion}`) ? `v${engineVersion}` : engineVersion;
  return parse(cleaned) ? cleaned : PRESEMVER_MODULE_VERSION;
}

/**
 * Refuses a module the engine would refuse to load, with the engine's message. (Dev builds on
 * both sides compare without their prerelease; the double is a release, so that never applies.)
 */
export function checkModuleEngineVersion(engineVersion: string | undefined): void {
  const version = normalizeModuleVersion(engineVersion);
  if (compareVersions(version, MINIMUM_MODULE_VERSION) < 0) {
    throw new Error(`module requires dagger ${version}, but support for that version has been removed`);
  }
  if (compareVersions(version, ENGINE_VERSION) > 0) {
    throw new Error(`module requires dagger ${version}, but you have ${ENGINE_VERSION}`);
  }
}
