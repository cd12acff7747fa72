// The `dagger call` stand-in starts from a bundle of the double kept by a digest of its sources:
// an edit to any file of the double must reach the next call, never a bundle of the old code.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./helpers/env.js";

/** A repository laid out like this one: scripts/dagger-call.ts importing a file of the double. */
function fakeRepo(): string {
  const root = mkdtempSync(join(tmpdir(), "dd-launch-"));
  mkdirSync(join(root, "double", "cli"), { recursive: true });
  mkdirSync(join(root, "scripts"));
  cpSync(join(repoRoot, "double", "cli", "launch.mjs"), join(root, "double", "cli", "launch.mjs"));
  symlinkSync(join(repoRoot, "node_modules"), join(root, "node_modules"));
  writeFileSync(join(root, "scripts", "dagger-call.ts"), 'import { answer } from "../double/engine/answer.js";\nconsole.log(answer(process.argv.slice(2)));\n');
  return root;
}

function writeAnswer(root: string, body: string): void {
  mkdirSync(join(root, "double", "engine"), { recursive: true });
  writeFileSync(join(root, "double", "engine", "answer.ts"), `export const answer = (argv: string[]): string => ${body};\n`);
}

const launch = (root: string, ...argv: string[]) => spawnSync(process.execPath, [join(root, "double", "cli", "launch.mjs"), ...argv], { encoding: "utf8" });

describe("the dagger-call launcher", () => {
  it("runs the stand-in with its arguments, and an edited double on the next start", () => {
    const root = fakeRepo();
    writeAnswer(root, '`old ${argv.join(" ")}`');
    expect(launch(root, "status", "--format", "json").stdout).toBe("old status --format json\n");
    expect(launch(root, "status").stdout).toBe("old status\n");

    writeAnswer(root, '`new ${argv.join(" ")}`');
    const edited = launch(root, "status");
    expect(edited.stderr).toBe("");
    expect(edited.stdout).toBe("new status\n");
    expect(readdirSync(join(root, ".dagger-call")).filter((f) => f.endsWith(".mjs"))).toHaveLength(2);
    expect(readdirSync(join(root, ".dagger-call")).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });
});
