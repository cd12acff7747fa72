// The engine gets a TypeScript module's typedefs from the SDK's `moduleTypes` (v0.21.8:
// sdk/typescript/runtime/main.go ModuleTypes, introspector.go), not from the module's runtime:
// the SDK's introspector (ts-introspector, its src/module/entrypoint/introspection_entrypoint.ts
// compiled by bun) runs in a directory that holds only
//   src/                          the module's src/ directory, nothing else of the module;
//   node_modules/@dagger.io/dagger and sdk/: a synthesized package (client.gen.ts with the
//                                 dependencies' bindings, the fixed index.ts, a static core.d.ts,
//                                 telemetry.ts);
//   node_modules/typescript       the typescript library the SDK was built with;
// no node_modules of the module, no install, and no module code run (it scans with loadModule
// false). It registers what it scanned through the API with its own session and writes the
// module's ID to $TYPEDEF_OUTPUT_FILE. Here the same entrypoint from the npm SDK of the engine's
// version is bundled (typescript left beside it) and run with the runtime's Node, not bun.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { randomHex } from "../util.js";
import { baseEnv, buildCacheDir, once } from "./build.js";
import { loadModuleSource } from "./module-source.js";
import { bundleSdkEntry, coreClientGen, indexTs, introspectorCoreDts, sdkPackageDir, sdkVersion, telemetryTs } from "./sdk-library.js";
import { ensureToolchain, type Toolchain } from "./toolchain.js";

const INTROSPECTOR_FORMAT = "1";

/** The entrypoint's arguments (introspector.go AsEntrypoint): module name, sources dir, bindings file. */
const SOURCES_DIR = "src";
const BINDINGS_FILE = "sdk/client.gen.ts";

/** The typescript library the npm SDK depends on (the engine mounts the one its SDK was built with). */
export function sdkTypescriptDir(): string {
  return dirname(createRequire(join(sdkPackageDir(), "package.json")).resolve("typescript/package.json"));
}

/** The introspection entrypoint bundled with typescript external, as cached by SDK version. */
function introspectorJs(): Promise<string> {
  return bundleSdkEntry("module/entrypoint/introspection_entrypoint.js");
}

/** <cache>/introspector/<sdk version>/: ts-introspector.mjs and the typescript it imports (node_modules/typescript). */
async function ensureIntrospector(cache: string): Promise<string> {
  const dir = join(cache, "introspector", `${sdkVersion()}-${INTROSPECTOR_FORMAT}`);
  await once(dir, async (tmp) => {
    writeFileSync(join(tmp, "ts-introspector.mjs"), await introspectorJs());
    const typescript = join(tmp, "node_modules", "typescript");
    mkdirSync(dirname(typescript), { recursive: true });
    const cp = spawnSync("cp", ["-a", "--link", sdkTypescriptDir(), typescript]);
    if (cp.status !== 0) cpSync(sdkTypescriptDir(), typescript, { recursive: true, verbatimSymlinks: true });
  });
  return dir;
}

export interface ModuleTypesOptions {
  /** The directory holding dagger.json. */
  moduleDir: string;
  /** dagger.json "source", relative to moduleDir: the introspector gets its src/. */
  sourceSubpath?: string;
  /** dagger.json "name": the introspector finds the main object by it. */
  moduleName: string;
  /** TypeScript bindings of the module's dependencies, appended to the core API in client.gen.ts. */
  dependencyBindings?: string;
}

export interface ModuleTypesRun {
  /** The introspector's working directory: src/, sdk/ and node_modules/{@dagger.io/dagger,typescript} only. */
  dir: string;
  command: { file: string; args: string[]; cwd: string };
  /** Where the introspector writes the module's ID ($TYPEDEF_OUTPUT_FILE). */
  outputFile: string;
  toolchain: Toolchain;
  /** Removes the working directory and the output. */
  remove(): void;
}

/** Lays out the introspector's directory for one run (the caller runs it with a session, then removes it). */
export async function prepareModuleTypes(options: ModuleTypesOptions): Promise<ModuleTypesRun> {
  const t = ensureToolchain();
  const cache = buildCacheDir();
  const introspector = await ensureIntrospector(cache);
  const { sourceDir, files } = loadModuleSource(options.moduleDir, options.sourceSubpath);
  const root = join(cache, "module-types", randomHex(8));
  // Not named src: the scanner's source maps start at the second path segment named "src".
  const dir = join(root, "work");
  try {
    for (const f of files.filter((f) => f.startsWith(`${SOURCES_DIR}/`))) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      cpSync(join(sourceDir, f), join(dir, f), { verbatimSymlinks: true });
    }
    mkdirSync(join(dir, SOURCES_DIR), { recursive: true });
    const clientGen = coreClientGen({ withDependencies: options.dependencyBindings !== undefined }) + (options.dependencyBindings ?? "");
    const pkg: Record<string, string> = { "client.gen.ts": clientGen, "index.ts": indexTs(), "core.d.ts": introspectorCoreDts(), "telemetry.ts": telemetryTs() };
    for (const target of ["sdk", join("node_modules", "@dagger.io", "dagger")]) {
      mkdirSync(join(dir, target), { recursive: true });
      for (const [name, text] of Object.entries(pkg)) writeFileSync(join(dir, target, name), text);
    }
    symlinkSync(join(introspector, "node_modules", "typescript"), join(dir, "node_modules", "typescript"));
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  return {
    dir,
    command: { file: t.node, args: [join(introspector, "ts-introspector.mjs"), options.moduleName, SOURCES_DIR, BINDINGS_FILE], cwd: dir },
    outputFile: join(root, "module-id.json"),
    toolchain: t,
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** The introspector's environment: the runtime's node first on PATH, where to write the ID, and the session. */
export function moduleTypesEnv(run: ModuleTypesRun, session: Record<string, string>): Record<string, string> {
  return { ...baseEnv(run.toolchain), TYPEDEF_OUTPUT_FILE: run.outputFile, ...session };
}
