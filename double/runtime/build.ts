// Builds a module as the engine's TypeScript runtime does (runtime_node.go SetupContainer,
// v0.21.8), into a directory of its own that stands for the runtime's container:
//   1. package.json rewritten, the lockfile and .npmrc only, then `npm install --omit=dev`
//      (npm 11.8.0 on Node 24.13.1; the root package's lifecycle scripts run, with none of the
//      module's other files there yet);
//   2. sdk/ generated (core.js, index.ts, telemetry.ts, client.gen.ts) and also placed at
//      node_modules/@dagger.io/dagger, where the SDK's scanner resolves it;
//   3. tsconfig.json rewritten; the module's other sources copied in (not sdk/, node_modules/
//      or the package manager's files); src/__dagger.entrypoint.ts added.
// The directory never sees the repository's node_modules: it lives outside the repository, and
// nothing resolves past it. Installs are cached by what they were made from, builds by a digest
// of the install, the sources, the SDK and the dependencies' bindings; both are written to a
// temporary directory and renamed into place, so concurrent builders never see half a build.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { randomHex, sha256 } from "../util.js";
import { ENTRYPOINT_FILE, entrypointSource } from "./entrypoint-file.js";
import { loadModuleSource, wrappedSourceFiles } from "./module-source.js";
import { rewritePackageJson } from "./package-json.js";
import { coreClientGen, coreDts, coreJs, indexTs, sdkVersion, telemetryTs } from "./sdk-library.js";
import { ensureToolchain, RUNTIME_NODE_VERSION, RUNTIME_NPM_VERSION, RUNTIME_TSX_VERSION, type Toolchain } from "./toolchain.js";
import { rewriteTsconfig } from "./tsconfig.js";

const BUILD_FORMAT = "1";

export interface ModuleBuild {
  /** The built module's directory (the runtime's module path). */
  dir: string;
  /** What it was built from. */
  digest: string;
  /** The command that runs the module's entrypoint, and its working directory. */
  command: { file: string; args: string[]; cwd: string };
  toolchain: Toolchain;
}

/** Where builds are kept: $DAGGER_DOUBLE_BUILD_CACHE, else ~/.cache/circuit-breaker-engine-double. */
export function buildCacheDir(): string {
  const dir = resolve(process.env["DAGGER_DOUBLE_BUILD_CACHE"] ?? join(homedir(), ".cache", "circuit-breaker-engine-double"));
  // Node looks for packages in every ancestor's node_modules: one there would stand in for a missing install.
  for (let d = dirname(dir); ; d = dirname(d)) {
    if (existsSync(join(d, "node_modules"))) {
      throw new Error(`engine double: the build cache ${dir} is below ${join(d, "node_modules")}, which modules could resolve packages from; set DAGGER_DOUBLE_BUILD_CACHE elsewhere`);
    }
    if (dirname(d) === d) break;
  }
  return dir;
}

/** A directory written under a temporary name and renamed into place; a concurrent winner is kept. */
export async function once(final: string, make: (tmp: string) => Promise<void>): Promise<void> {
  if (existsSync(final)) return;
  const tmp = `${final}.tmp-${randomHex(6)}`;
  mkdirSync(tmp, { recursive: true });
  try {
    await make(tmp);
    try {
      renameSync(tmp, final);
    } catch (e) {
      if (!existsSync(final)) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function run(file: string, args: string[], cwd: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((res, rej) => {
    const child = spawn(file, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const add = (b: Buffer) => (output = (output + b.toString("utf8")).slice(-32 * 1024));
    child.stdout.on("data", add);
    child.stderr.on("data", add);
    child.on("error", rej);
    child.on("close", (code) => res({ code, output }));
  });
}

export function baseEnv(t: Toolchain): Record<string, string> {
  const env: Record<string, string> = {
    PATH: `${t.nodeBinDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: process.env["HOME"] ?? "/root",
  };
  // The host's CA and proxy settings stand for the engine's (the runtime trusts the engine's CAs).
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && (/^(TMPDIR|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR)$/.test(k) || /^(https?|no)_proxy$/i.test(k))) env[k] = v;
  }
  return env;
}

async function installDependencies(t: Toolchain, cache: string, files: Record<string, string>): Promise<string> {
  const digest = sha256([`format:${BUILD_FORMAT}`, `node:${RUNTIME_NODE_VERSION}`, `npm:${RUNTIME_NPM_VERSION}`, ...Object.entries(files).map(([k, v]) => `${k}:${sha256(v)}`)].join("\n"));
  const dir = join(cache, "installs", digest.slice(0, 32));
  await once(dir, async (tmp) => {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(tmp, name), text);
    const args = [t.npmCli, "install", "--omit=dev", "--no-audit", "--no-fund"];
    const r = await run(t.node, args, tmp, baseEnv(t));
    if (r.code !== 0) {
      throw new Error(`failed to install the module's dependencies: process "npm install --omit=dev" did not complete successfully: exit code: ${r.code}\n${r.output.trim()}`);
    }
  });
  return dir;
}

async function coreJsFile(cache: string): Promise<string> {
  const dir = join(cache, "sdk", `${sdkVersion()}-${BUILD_FORMAT}`);
  await once(dir, async (tmp) => writeFileSync(join(tmp, "core.js"), await coreJs()));
  return join(dir, "core.js");
}

export interface BuildOptions {
  /** The directory holding dagger.json. */
  moduleDir: string;
  /** dagger.json "source", relative to moduleDir. */
  sourceSubpath?: string;
  /** TypeScript bindings of the module's dependencies, appended to the core API in client.gen.ts. */
  dependencyBindings?: string;
  /** A digest of every file the engine loads for the module (the engine's module-info computes it once). */
  sourceDigest: string;
}

export async function buildModule(options: BuildOptions): Promise<ModuleBuild> {
  const t = ensureToolchain();
  const cache = buildCacheDir();
  const { sourceDir, files } = loadModuleSource(options.moduleDir, options.sourceSubpath);
  const read = (name: string) => (files.includes(name) ? readFileSync(join(sourceDir, name), "utf8") : undefined);
  const pkg = rewritePackageJson(read("package.json") ?? '{ "type": "module" }', join(sourceDir, "package.json"));
  const installFiles: Record<string, string> = { "package.json": pkg };
  for (const name of ["package-lock.json", ".npmrc"]) {
    const text = read(name);
    if (text !== undefined) installFiles[name] = text;
  }
  const sources = wrappedSourceFiles(files).filter((f) => f !== `src/${ENTRYPOINT_FILE}`);

  const install = await installDependencies(t, cache, installFiles);
  const core = await coreJsFile(cache);
  // Everything below is a function of these inputs, so a cached build is found without generating
  // sdk/ again (parsing the SDK's bindings takes about half a second).
  const digest = sha256(
    [
      `format:${BUILD_FORMAT}`,
      `tsx:${RUNTIME_TSX_VERSION}`,
      `sdk:${sdkVersion()}`,
      `install:${install}`,
      `core:${core}`,
      `bindings:${sha256(options.dependencyBindings ?? "")}:${options.dependencyBindings !== undefined}`,
      `sources:${options.sourceDigest}`,
    ].join("\n"),
  );
  const dir = join(cache, "builds", digest.slice(0, 32));
  await once(dir, async (tmp) => {
    const clientGen = coreClientGen({ withDependencies: options.dependencyBindings !== undefined }) + (options.dependencyBindings ?? "");
    const sdk: Record<string, string> = { "index.ts": indexTs(), "telemetry.ts": telemetryTs(), "core.d.ts": coreDts(), "client.gen.ts": clientGen };
    const cp = spawnSync("cp", ["-a", "--link", `${install}/.`, tmp]);
    if (cp.status !== 0) cpSync(install, tmp, { recursive: true, verbatimSymlinks: true });
    for (const target of ["sdk", join("node_modules", "@dagger.io", "dagger")]) {
      mkdirSync(join(tmp, target), { recursive: true });
      for (const [name, text] of Object.entries(sdk)) writeFileSync(join(tmp, target, name), text);
      cpSync(core, join(tmp, target, "core.js"));
    }
    writeFileSync(join(tmp, "tsconfig.json"), rewriteTsconfig(read("tsconfig.json"), join(sourceDir, "tsconfig.json")));
    for (const f of sources) {
      mkdirSync(dirname(join(tmp, f)), { recursive: true });
      cpSync(join(sourceDir, f), join(tmp, f), { verbatimSymlinks: true });
    }
    mkdirSync(join(tmp, "src"), { recursive: true });
    writeFileSync(join(tmp, "src", ENTRYPOINT_FILE), entrypointSource());
  });
  return {
    dir,
    digest,
    toolchain: t,
    command: { file: t.node, args: [t.tsxCli, "--no-deprecation", "--tsconfig", join(dir, "tsconfig.json"), join(dir, "src", ENTRYPOINT_FILE)], cwd: dir },
  };
}

/** The environment a module process starts with: the toolchain's node first on PATH, nothing of the repository's. */
export function moduleProcessEnv(build: ModuleBuild, extra: Record<string, string>): Record<string, string> {
  return { ...baseEnv(build.toolchain), ...extra };
}
