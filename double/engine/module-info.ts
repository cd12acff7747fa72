// A module as the engine identifies it: its dagger.json (name, source, dependencies), the
// context it is loaded from, the namespace of its cache volumes, and a digest of its files.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { loadModuleSource } from "../runtime/module-source.js";
import { sdkVersion } from "../runtime/sdk-library.js";
import { GENERATED_MARKER } from "./develop-sdk.js";
import { checkModuleEngineVersion } from "./engine-version.js";
import { sha256, toPascal } from "../util.js";

/** Bumped when the double changes how it runs modules: registrations and function results are keyed by it. */
export const DOUBLE_RUNTIME_VERSION = "3";

export interface ModuleInfo {
  /** The directory holding dagger.json. */
  dir: string;
  /** dagger.json "name". */
  name: string;
  /** PascalCase of the name: the main object. */
  mainObject: string;
  /** The module's source directory (dagger.json "source", default "."). */
  sourceDir: string;
  /** Digest of the module's source: keys the registration and function caches. */
  digest: string;
  /** Context directory for defaultPath: the enclosing git repository, else `dir`. */
  contextDir: string;
  /** The namespace of the cache volumes the module creates (see `moduleNamespace`). */
  namespace: string;
  /** dagger.json `dependencies`: the name the module knows each by, and its directory. */
  dependencies: DependencyInfo[];
}

export interface DependencyInfo {
  /** The name in the dependent's dagger.json (its API is namespaced by it). */
  name: string;
  /** The dependency's directory (holding its dagger.json). */
  dir: string;
}

interface DaggerJson {
  name?: string;
  engineVersion?: string;
  source?: string;
  sdk?: { source?: string } | string;
  dependencies?: { name?: string; source?: string; pin?: string }[];
}

/** A dependency's `source` as the double can load it: a local path only. */
function dependencyOf(dir: string, dep: { name?: string; source?: string }, configPath: string): DependencyInfo {
  const source = dep.source ?? "";
  if (!dep.name || !source) throw new Error(`engine double: ${configPath}: a dependency needs a "name" and a "source"`);
  if (/^[a-z]+:\/\//i.test(source) || /^(github\.com|gitlab\.com|git@)/.test(source) || source.includes("@")) {
    throw new Error(`engine double: dependency ${JSON.stringify(dep.name)} comes from ${JSON.stringify(source)}: only local dependencies (a relative path) are implemented`);
  }
  const depDir = resolve(dir, source);
  if (!existsSync(join(depDir, "dagger.json"))) throw new Error(`engine double: dependency ${JSON.stringify(dep.name)}: no dagger.json in ${depDir}`);
  return { name: dep.name, dir: depDir };
}

export function readModuleInfo(moduleDir: string, ancestors: string[] = []): ModuleInfo {
  const dir = resolve(moduleDir);
  const configPath = join(dir, "dagger.json");
  if (!existsSync(configPath)) throw new Error(`engine double: no dagger.json in ${dir}`);
  if (ancestors.includes(dir)) throw new Error(`engine double: module dependency cycle: ${[...ancestors, dir].join(" -> ")}`);
  const config = JSON.parse(readFileSync(configPath, "utf8")) as DaggerJson;
  if (!config.name) throw new Error(`engine double: ${configPath} has no "name"`);
  checkModuleEngineVersion(config.engineVersion);
  const sdk = typeof config.sdk === "string" ? config.sdk : config.sdk?.source;
  if (sdk !== "typescript") throw new Error(`engine double: only TypeScript modules are supported (sdk: ${JSON.stringify(sdk)})`);
  const sourceDir = resolve(dir, config.source ?? ".");
  const dependencies = (config.dependencies ?? []).map((d) => dependencyOf(dir, d, configPath));
  // A dependency's source is part of the dependent's identity (its bindings, its function cache).
  const depDigests = dependencies.map((d) => `${d.name}=${readModuleInfo(d.dir, [...ancestors, dir]).digest}`);
  return {
    dir,
    name: config.name,
    mainObject: toPascal(config.name),
    sourceDir,
    digest: depDigests.length ? sha256([sourceDigest(dir, sourceDir), ...depDigests].join("\n")) : sourceDigest(dir, sourceDir),
    contextDir: findGitRoot(dir) ?? dir,
    namespace: moduleNamespace(config.name, dir),
    dependencies,
  };
}

/** The namespace of a client's own cache volumes (the CLI, tests): not a module's. */
export const CLIENT_NAMESPACE = "mainClient";

/**
 * The namespace of the cache volumes a local module creates (core/schema/cache.go
 * `namespaceFromModule`, v0.21.8): "mod(" + its dagger.json name + its source root's path in its
 * context directory (the enclosing Git repository) + ")". A Git source uses its clone ref and
 * subpath instead, so a local checkout and the same module installed from Git have separate
 * volumes. The double loads local modules only.
 */
export function moduleNamespace(name: string, moduleDir: string): string {
  const dir = resolve(moduleDir);
  const context = findGitRoot(dir) ?? dir;
  return `mod(${name}${relative(context, dir) || "."})`;
}

export function findGitRoot(start: string): string | undefined {
  let d = start;
  for (;;) {
    if (existsSync(join(d, ".git"))) return d;
    const up = dirname(d);
    if (up === d) return undefined;
    d = up;
  }
}

/** Every file the engine loads for the module (dagger.json, package files, sources; .gitignore applied), and the SDK version. */
function sourceDigest(dir: string, sourceDir: string): string {
  const parts: string[] = [`double-runtime:${DOUBLE_RUNTIME_VERSION}`, `sdk:${sdkVersion()}`];
  const loaded = loadModuleSource(dir, relative(dir, sourceDir) || ".");
  for (const f of loaded.files) {
    const data = readFileSync(join(loaded.sourceDir, f));
    // Bindings the double generated (`develop`) are derived from the dependencies, counted apart.
    if (data.subarray(0, GENERATED_MARKER.length).toString() === GENERATED_MARKER) continue;
    parts.push(`${f}:${sha256(data)}`);
  }
  parts.push(`dagger.json:${sha256(readFileSync(join(dir, "dagger.json")))}`);
  return sha256(parts.join("\n"));
}

