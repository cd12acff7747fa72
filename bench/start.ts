/**
 * Per-call start of the module (scan + import), as the v0.21.8 TypeScript runtime runs it once
 * the engine double has built the module (double/runtime/build.ts).
 *
 * On an engine every function call is a fresh process: `tsx src/__dagger.entrypoint.ts` lists
 * every .ts/.mts file under src/ after ../sdk/client.gen.ts and hands the list to the SDK's
 * `entrypoint(files)`, which, before our code runs,
 *   1. imports every one of those files (`load(files)`, inside `scan`),
 *   2. scans them with the TypeScript compiler (`new AST(files)`: `ts.createProgram` over the
 *      files and everything they import, down to the packages' .d.ts, then `new DaggerModule`,
 *      which walks the decorated classes with the type checker),
 * and only then invokes the function. Registration (once per module version) runs exactly the
 * same `scan` and then registers over GraphQL, so its scan is this one, not a separate cost.
 *
 * This bench builds (a) a module (by default this repository; `BENCH_START_MODULE=<dir>` for
 * another, e.g. an experimental copy) and (b) the one-function module in
 * bench/fixtures/one-function with `buildModule`, copies each build (hard links) to a bench
 * directory (a scratch dir under TMPDIR, removed at the end) whose src/__dagger.entrypoint.ts is replaced by a timing entry that builds the same
 * file list and runs the SDK's own `load`, `AST` and `DaggerModule` (exported from a copy of the
 * build's bundled sdk/core.js with one `export` line appended; no GraphQL session is started),
 * and runs it in fresh processes with the build's command (Node 24.13.1 + tsx 4.15.6, cwd = the
 * build, env from `moduleProcessEnv`), cold (fresh TMPDIR, so tsx's transform cache is empty,
 * as in a fresh runtime container), interleaved between the two modules, BENCH_ROUNDS rounds
 * (default 10). Reported: median and p25–p75 of each phase, and ratios module/one-function.
 *
 *   npm run bench:start        # npx tsx bench/start.ts
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildModule, moduleProcessEnv, type ModuleBuild } from "../double/runtime/build.js";
import { ENTRYPOINT_FILE, MODULE_FILES_FUNCTION } from "../double/runtime/entrypoint-file.js";
import { readModuleInfo } from "../double/engine/module-info.js";
import { sha256 } from "../double/util.js";
import { fixed, machineLine, markdownTable, median, quantile, ratio, rotate } from "./lib/measure.js";
import { printSmokeNotice, runSize, SMOKE } from "./lib/smoke.js";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "..");
const ROUNDS = runSize("BENCH_ROUNDS", 10, 1);
const moduleDir = resolve(process.env["BENCH_START_MODULE"] ?? repoRoot);
const baselineDir = join(here, "fixtures", "one-function");
/** cold (default): a fresh TMPDIR per process, so tsx transforms every file again, as in a fresh runtime container; warm: tsx's cache kept. */
const WARM = process.env["BENCH_START_TSX_CACHE"] === "warm";

/** Appended to the bench copy of sdk/core.js: the SDK's own scan steps, unchanged. */
const CORE_EXPORTS = "\nexport { load2 as __benchLoad, AST as __benchAST, DaggerModule as __benchDaggerModule, convertToPascalCase as __benchPascalCase };\n";

/** The timing entry, at src/__dagger.entrypoint.ts of the bench copy (so it lists and imports itself as the runtime's does). */
const TIMING_ENTRY = `// Written by bench/start.ts: the runtime's entrypoint, timed, without the GraphQL session.
import { entrypoint } from "@dagger.io/dagger"
import * as fs from "fs"
import * as path from "path"
import { __benchLoad, __benchAST, __benchDaggerModule, __benchPascalCase } from "../sdk/core.js"

void entrypoint
const ready = process.hrtime.bigint()
${MODULE_FILES_FUNCTION}

const files = moduleFiles(import.meta.dirname, [\`\${import.meta.dirname}/../sdk/client.gen.ts\`])
// Not awaited at top level, as the runtime calls entrypoint(files): the file imports itself.
async function run(): Promise<void> {
  const t0 = process.hrtime.bigint()
  // scan(files, moduleName): load(files), then new AST(files, userModule), then new DaggerModule(...)
  const userModule = await __benchLoad(files)
  const t1 = process.hrtime.bigint()
  const ast = new __benchAST(files, userModule)
  const t2 = process.hrtime.bigint()
  const mod = new __benchDaggerModule(__benchPascalCase(process.env.BENCH_START_MODULE_NAME ?? ""), userModule, ast)
  const t3 = process.hrtime.bigint()
  // entrypoint: load(files) again before invoking (already imported)
  await __benchLoad(files)
  const t4 = process.hrtime.bigint()
  // What a function then imports by itself at call time (BENCH_START_CALL_IMPORTS, paths relative to the build)
  for (const f of (process.env.BENCH_START_CALL_IMPORTS ?? "").split(",").filter(Boolean)) await import(path.join(import.meta.dirname, "..", f))
  const t5 = process.hrtime.bigint()
  const origin = BigInt(process.env.BENCH_START_T0 ?? "0")
  const ms = (a: bigint, b: bigint) => Number(b - a) / 1e6
  const out: Record<string, unknown> = {
    boot: ms(origin, ready), list: ms(ready, t0), import: ms(t0, t1), program: ms(t1, t2), walk: ms(t2, t3), reload: ms(t3, t4), callImport: ms(t4, t5),
    toInvoke: ms(origin, t4), files: files.length, objects: Object.keys(mod.objects).length,
    functions: Object.values(mod.objects).reduce((n: number, o: any) => n + Object.keys(o.methods ?? {}).length, 0),
  }
  if (process.env.BENCH_START_COUNT === "1") {
    const ts = (await import("typescript")).default
    const p = ts.createProgram(files, { experimentalDecorators: true, moduleResolution: ts.ModuleResolutionKind.Node10, target: ts.ScriptTarget.ES2022 })
    const all = p.getSourceFiles()
    out.programFiles = all.length
    out.programDts = all.filter((f) => f.isDeclarationFile).length
    out.programChars = all.reduce((n, f) => n + f.text.length, 0)
    const byPkg: Record<string, number> = {}
    for (const f of all) {
      const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(f.fileName)
      const k = m ? m[1] : f.fileName.includes("/sdk/") ? "sdk" : "src"
      byPkg[k] = (byPkg[k] ?? 0) + f.text.length
    }
    out.programCharsByPackage = byPkg
  }
  process.stdout.write("BENCH_START " + JSON.stringify(out) + "\\n")
}
void run()
`;

interface Variant {
  label: string;
  build: ModuleBuild;
  benchDir: string;
  name: string;
  /** Modules a function imports by itself after the start (only for the module under test). */
  callImports: string;
  /** TMPDIR kept across runs with BENCH_START_TSX_CACHE=warm (tsx's transform cache lives there). */
  warmTmp: string;
}

/** This run's scratch directory: the bench copies of the builds and the warm TMPDIRs, removed at the end. */
const scratch = mkdtempSync(join(tmpdir(), "cb-bench-start-"));

/** A hard-linked copy of the build with the patched core.js and the timing entry (never written through the links). */
function benchCopy(build: ModuleBuild): string {
  const dir = join(scratch, build.digest.slice(0, 32));
  const r = spawnSync("cp", ["-a", "--link", build.dir, dir]);
  if (r.status !== 0) throw new Error(`cp -al failed: ${r.stderr}`);
  const core = readFileSync(join(build.dir, "sdk", "core.js"), "utf8") + CORE_EXPORTS;
  for (const f of [join("sdk", "core.js"), join("node_modules", "@dagger.io", "dagger", "core.js"), join("src", ENTRYPOINT_FILE)]) {
    unlinkSync(join(dir, f));
    writeFileSync(join(dir, f), f.endsWith(ENTRYPOINT_FILE) ? TIMING_ENTRY : core);
  }
  return dir;
}

type Sample = Record<string, number>;

function runOnce(v: Variant, extra: Record<string, string> = {}): Promise<Sample & { wall: number }> {
  const tmp = WARM ? v.warmTmp : mkdtempSync(join(tmpdir(), "cb-bench-start-tmp-"));
  const args = v.build.command.args.map((a) => a.split(v.build.dir).join(v.benchDir));
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint();
    const env = moduleProcessEnv(v.build, { TMPDIR: tmp, BENCH_START_T0: String(t0), BENCH_START_MODULE_NAME: v.name, BENCH_START_CALL_IMPORTS: v.callImports, ...extra });
    const child = spawn(v.build.command.file, args, { cwd: v.benchDir, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString("utf8")));
    child.stderr.on("data", (b: Buffer) => (out += b.toString("utf8")));
    child.on("error", rej);
    child.on("close", (code) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e6;
      if (!WARM) rmSync(tmp, { recursive: true, force: true });
      const line = out.split("\n").find((l) => l.startsWith("BENCH_START "));
      if (code !== 0 || !line) return rej(new Error(`${v.label}: exit ${code}\n${out.slice(-4000)}`));
      res({ ...(JSON.parse(line.slice("BENCH_START ".length)) as Sample), wall });
    });
  });
}

async function variant(label: string, dir: string, callImports = ""): Promise<Variant> {
  const { digest, name } = readModuleInfo(dir);
  const build = await buildModule({ moduleDir: dir, sourceDigest: digest });
  return { label, build, benchDir: benchCopy(build), name, callImports, warmTmp: mkdtempSync(join(scratch, "warm-tmp-")) };
}

const f1 = fixed(0);
const cell = (xs: number[]) => `${f1(median(xs))} (${f1(quantile(xs, 0.25))}–${f1(quantile(xs, 0.75))})`;

async function main(): Promise<void> {
  const mod = await variant(moduleDir === repoRoot ? "circuit-breaker (this repository)" : `module at ${moduleDir}`, moduleDir, process.env["BENCH_START_CALL_IMPORTS"] ?? "");
  const one = await variant("one-function module (bench/fixtures/one-function)", baselineDir);
  console.log(`# per-call start (tsx cache ${WARM ? "warm" : "cold"}${mod.callImports ? `, call-time imports ${mod.callImports}` : ""}): ${machineLine()}; load ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  printSmokeNotice();
  console.log(`module build ${mod.build.dir}\nbaseline build ${one.build.dir}`);
  const count = { BENCH_START_COUNT: "1" };
  const describe = (v: Variant, c: Sample) =>
    console.log(`${v.label}: ${c["files"]} files passed, ${c["objects"]} objects, ${c["functions"]} functions; the scanner's program: ${c["programFiles"]} files (${c["programDts"]} .d.ts), ${(Number(c["programChars"]) / 1024).toFixed(0)} KiB of text; by package (KiB): ${Object.entries(c["programCharsByPackage"] as unknown as Record<string, number>).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${(n / 1024).toFixed(0)}`).join(", ")}`);
  // Counting the scanner's files (a second createProgram, after every timed mark) lengthens the
  // process's wall time, so a full run counts in runs of its own; a smoke run, whose figures
  // measure nothing, counts in its one round and saves two module starts.
  if (!SMOKE) {
    for (const v of [mod, one]) describe(v, await runOnce(v, count));
    // one warm-up run each (page cache), not counted
    await runOnce(mod);
    await runOnce(one);
  }
  const samples = new Map<Variant, Sample[]>([[mod, []], [one, []]]);
  const ratios: Record<string, number[]> = { scanImport: [], toInvoke: [], withCall: [], wall: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const got = new Map<Variant, Sample>();
    for (const v of rotate([mod, one], r)) got.set(v, await runOnce(v, SMOKE ? count : {}));
    for (const [v, s] of got) samples.get(v)!.push({ ...s, scanImport: s["import"]! + s["program"]! + s["walk"]! + s["reload"]!, withCall: s["toInvoke"]! + s["callImport"]! });
    const a = samples.get(mod)!.at(-1)!;
    const b = samples.get(one)!.at(-1)!;
    ratios["scanImport"]!.push(a["scanImport"]! / b["scanImport"]!);
    ratios["toInvoke"]!.push(a["toInvoke"]! / b["toInvoke"]!);
    ratios["withCall"]!.push(a["withCall"]! / b["withCall"]!);
    ratios["wall"]!.push(a["wall"]! / b["wall"]!);
    process.stderr.write(`round ${r + 1}/${ROUNDS}: ${f1(a["toInvoke"]!)} vs ${f1(b["toInvoke"]!)} ms to invoke\n`);
  }
  if (SMOKE) for (const v of [mod, one]) describe(v, samples.get(v)![0]!);
  const col = (v: Variant, k: string) => samples.get(v)!.map((s) => s[k]!);
  const rows = [mod, one].map((v) => [v.label, cell(col(v, "boot")), cell(col(v, "import")), cell(col(v, "program")), cell(col(v, "walk")), cell(col(v, "scanImport")), cell(col(v, "toInvoke")), cell(col(v, "callImport")), cell(col(v, "wall"))]);
  console.log(`\n${ROUNDS} rounds, ms, median (p25–p75):\n`);
  console.log(markdownTable(["module", "boot (tsx, SDK, client.gen)", "import src", "scan: program", "scan: walk", "scan + import", "start to invoke", "call-time import", "process wall"], rows));
  const rq = (xs: number[]) => `${ratio(median(xs))} (${ratio(quantile(xs, 0.25))}–${ratio(quantile(xs, 0.75))})`;
  console.log(`\nratio module / one-function (median of per-round ratios, p25–p75): scan + import ${rq(ratios["scanImport"]!)}, start to invoke ${rq(ratios["toInvoke"]!)}, start + call-time import ${rq(ratios["withCall"]!)}, process wall ${rq(ratios["wall"]!)}`);
}

try {
  await main();
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
