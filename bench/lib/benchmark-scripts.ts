import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The npm script that runs every benchmark in smoke mode; not a benchmark itself. */
export const SMOKE_SCRIPT = "bench:smoke";

/**
 * The benchmarks' npm scripts, in package.json's order: every `bench:*` but `bench:smoke`. Read
 * from package.json rather than listed, so that a benchmark added there is smoke-tested too.
 */
export function benchmarkScripts(scripts: Readonly<Record<string, string>>): string[] {
  return Object.keys(scripts).filter((name) => name.startsWith("bench:") && name !== SMOKE_SCRIPT);
}

/** The `scripts` of the package.json in `root`. */
export function packageScripts(root: string): Record<string, string> {
  const parsed = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts?: Record<string, string> };
  return parsed.scripts ?? {};
}
