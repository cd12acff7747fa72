// Starts the `dagger call` stand-in (scripts/dagger-call.ts) from one esbuild bundle of it and
// the double, instead of through tsx: tests start hundreds of calls, and resolving and
// transforming the double's files on each start cost more CPU than the rest of the CLI. The
// bundle is made on first use and kept under a digest of the sources it is made from, written
// to a temporary name and renamed, so concurrent starts never load half of one. It lives in
// <repo>/.dagger-call/ (gitignored), one level below the repository like double/util.ts, so the
// double's repoRoot and package resolution are the same as from the sources.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const entry = join(root, "scripts", "dagger-call.ts");

function tsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : tsFiles(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

const hash = createHash("sha256");
for (const file of [entry, ...tsFiles(join(root, "double")).sort()]) hash.update(`${relative(root, file)}\0`).update(readFileSync(file)).update("\0");
const bundle = join(root, ".dagger-call", `dagger-call-${hash.digest("hex").slice(0, 24)}.mjs`);

if (!existsSync(bundle)) {
  const { build } = await import("esbuild");
  const tmp = `${bundle}.tmp-${process.pid}`;
  mkdirSync(dirname(bundle), { recursive: true });
  try {
    await build({ entryPoints: [entry], outfile: tmp, bundle: true, platform: "node", format: "esm", target: "node20", packages: "external", logLevel: "error" });
    renameSync(tmp, bundle);
  } finally {
    rmSync(tmp, { force: true });
  }
}

await import(pathToFileURL(bundle).href);
