// The files of a module as the engine loads them (core/schema/modulesource.go,
// loadModuleSourceContext, v0.21.8): from the context directory (the enclosing Git repository,
// else the module's directory), the module's dagger.json and its source directory, with the
// repository's .gitignore rules applied. The runtime then splits them: the package manager's
// files go in first for the install, the rest (not sdk/ or node_modules/) only afterwards
// (runtime_node.go, config.go wrappedSourceCodeDirectory).
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ignore, { type Ignore } from "ignore";

/** The runtime's package-manager and compiler files (config.go moduleConfigFiles). */
export const MODULE_CONFIG_FILES = [
  "package.json",
  "tsconfig.json",
  "pnpm-workspace.yaml",
  ".yarnrc.yml",
  "package-lock.json",
  "yarn.lock",
  "pnpm-lock.yaml",
  "bun.lockb",
  "bun.lock",
  "bunfig.toml",
  "deno.json",
  "deno.lock",
];

export interface ModuleSourceFiles {
  /** The module's source directory on the host. */
  sourceDir: string;
  /** Paths relative to sourceDir of every file the engine loads, sorted. */
  files: string[];
}

function findGitRoot(start: string): string | undefined {
  for (let d = start; ; d = dirname(d)) {
    if (existsSync(join(d, ".git"))) return d;
    if (dirname(d) === d) return undefined;
  }
}

interface Rules {
  base: string;
  rules: Ignore;
}

function rulesIn(dir: string): Rules | undefined {
  const file = join(dir, ".gitignore");
  if (!existsSync(file)) return undefined;
  return { base: dir, rules: ignore().add(readFileSync(file, "utf8")) };
}

function ignored(path: string, isDir: boolean, stack: Rules[]): boolean {
  for (const { base, rules } of stack) {
    const rel = relative(base, path).split(sep).join("/");
    if (rel && !rel.startsWith("..") && rules.ignores(isDir ? `${rel}/` : rel)) return true;
  }
  return false;
}

export function loadModuleSource(moduleDir: string, sourceSubpath = "."): ModuleSourceFiles {
  const root = resolve(moduleDir);
  const config = JSON.parse(readFileSync(join(root, "dagger.json"), "utf8")) as { include?: unknown };
  if (Array.isArray(config.include) && config.include.length) {
    throw new Error(`engine double: dagger.json "include" (${JSON.stringify(config.include)}) is not implemented`);
  }
  const sourceDir = resolve(root, sourceSubpath);
  const contextDir = findGitRoot(root) ?? root;
  // Rules of every directory from the context root down to the source directory apply.
  const stack: Rules[] = [];
  for (let d = contextDir; ; ) {
    const r = rulesIn(d);
    if (r) stack.push(r);
    if (d === sourceDir || !sourceDir.startsWith(d + sep)) break;
    d = join(d, relative(d, sourceDir).split(sep)[0]!);
  }
  const files: string[] = [];
  const walk = (dir: string, rules: Rules[]) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const st = lstatSync(full);
      if (name === ".git" || ignored(full, st.isDirectory(), rules)) continue;
      if (st.isDirectory()) {
        const own = rulesIn(full);
        walk(full, own ? [...rules, own] : rules);
      } else files.push(relative(sourceDir, full).split(sep).join("/"));
    }
  };
  walk(sourceDir, stack);
  return { sourceDir, files };
}

/** The sources the runtime copies in after the install: everything but its config files, sdk/ and node_modules/. */
export function wrappedSourceFiles(files: string[]): string[] {
  return files.filter((f) => !MODULE_CONFIG_FILES.includes(f) && !/^(sdk|node_modules)(\/|$)/.test(f));
}
