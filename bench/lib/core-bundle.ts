/**
 * The breaker core's pure transitions (lib/core), from the work tree or as committed at a git
 * revision, bundled into one ES module each, so that a benchmark can time today's core against an
 * older one in the same process. Both go through the same esbuild call, so neither gains from how
 * it is loaded. Each `loadCore` of a bundle is a fresh module instance (its URL carries the
 * instance name): its functions have JIT type feedback of their own, so the shapes one variant
 * feeds them do not slow the code another variant runs.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import type { BreakerPolicy } from "../../lib/core/policy.js";
import type { initialState } from "../../lib/core/state.js";
import type { acquire, record, spendRetry } from "../../lib/core/transitions.js";

/** What a benchmark uses of a core. An older core's states lack today's newer fields; only that core ever sees them. */
export interface CoreModule {
  acquire: typeof acquire;
  record: typeof record;
  /** Absent from cores before the retry budget (commit 57736f4). */
  spendRetry?: typeof spendRetry;
  initialState: typeof initialState;
  DEFAULT_POLICY: BreakerPolicy;
}

const ENTRY = [
  `export * from "./lib/core/transitions.js";`,
  `export { DEFAULT_POLICY } from "./lib/core/policy.js";`,
  `export { initialState } from "./lib/core/state.js";`,
].join("\n");

/**
 * Writes lib/core/*.ts as committed at `rev` under `dir` (read with git, the work tree untouched)
 * and returns `dir`. Throws, saying so, when the clone does not have `rev`.
 */
export function coreSourcesAt(repo: string, rev: string, dir: string): string {
  const listed = spawnSync("git", ["ls-tree", "--name-only", `${rev}:lib/core`], { cwd: repo, encoding: "utf8" });
  if (listed.status !== 0) {
    throw new Error(
      `cannot read lib/core at ${rev} from git in ${repo} (${listed.stderr.trim()}); ` +
        `the benchmark needs a clone with that commit (a shallow clone does not have it: git fetch --unshallow)`,
    );
  }
  mkdirSync(join(dir, "lib", "core"), { recursive: true });
  for (const name of listed.stdout.split("\n").filter((n) => n.endsWith(".ts"))) {
    const text = execFileSync("git", ["show", `${rev}:lib/core/${name}`], { cwd: repo, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
    writeFileSync(join(dir, "lib", "core", name), text);
  }
  return dir;
}

/** Bundles the core found under `root` (a directory holding lib/core) into `outfile`, an ES module. */
export async function bundleCore(root: string, outfile: string): Promise<void> {
  await build({
    stdin: { contents: ENTRY, resolveDir: root, sourcefile: "core-entry.ts", loader: "ts" },
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
  });
}

/** A fresh instance of the bundled core in `file`, named `instance` (one per variant). */
export async function loadCore(file: string, instance: string): Promise<CoreModule> {
  const url = `${pathToFileURL(file).href}?instance=${encodeURIComponent(instance)}`;
  const core = (await import(url)) as CoreModule;
  if (typeof core.acquire !== "function" || typeof core.record !== "function" || typeof core.initialState !== "function") {
    throw new Error(`${file} is not a bundle of the breaker core`);
  }
  return core;
}
