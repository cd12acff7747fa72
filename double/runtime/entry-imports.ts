// Imports files of a built module in the runtime's own Node and tsx, with the build's tsconfig
// (sdk/ paths) and environment, the way a function call reaches code loaded at call time. Only
// module evaluation runs: nothing is called. A module that loads code through computed
// specifiers registers without ever touching that code, so this is what finds a value import
// the generated sdk/ does not export, or a package only devDependencies hold, before a user's
// call does.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { moduleProcessEnv, type ModuleBuild } from "./build.js";

export interface EntryImport {
  /** The file, relative to the module's build directory. */
  file: string;
  /** What the runtime's Node threw while loading it; absent when it loaded. */
  error?: string;
}

const RESULT_PREFIX = "entry-import:";

// Each file in turn, so one failure does not hide the next; results as JSON lines on stdout.
const IMPORTER = `for (const [file, url] of JSON.parse(process.argv[2])) {
  let error;
  try {
    await import(url);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  process.stdout.write(${JSON.stringify(RESULT_PREFIX)} + JSON.stringify({ file, ...(error === undefined ? {} : { error }) }) + "\\n");
}
`;

export async function importInRuntime(build: ModuleBuild, files: string[]): Promise<EntryImport[]> {
  const scratch = mkdtempSync(join(tmpdir(), "dd-entry-imports-"));
  try {
    const script = join(scratch, "import-entries.mts");
    writeFileSync(script, IMPORTER);
    const targets = files.map((f) => [f, pathToFileURL(resolve(build.dir, f)).href]);
    const args = [build.toolchain.tsxCli, "--no-deprecation", "--tsconfig", join(build.dir, "tsconfig.json"), script, JSON.stringify(targets)];
    const { code, stdout, stderr } = await run(build.toolchain.node, args, build.dir, moduleProcessEnv(build, {}));
    const results = stdout
      .split("\n")
      .filter((l) => l.startsWith(RESULT_PREFIX))
      .map((l) => JSON.parse(l.slice(RESULT_PREFIX.length)) as EntryImport);
    if (code !== 0 || results.length !== files.length) {
      throw new Error(`engine double: importing ${files.join(", ")} in the runtime's Node exited with code ${code}:\n${(stderr || stdout).trim()}`);
    }
    return results;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function run(file: string, args: string[], cwd: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(file, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString("utf8")));
    child.stderr.on("data", (b: Buffer) => (stderr = (stderr + b.toString("utf8")).slice(-32 * 1024)));
    child.on("error", rej);
    child.on("close", (code) => res({ code, stdout, stderr }));
  });
}
