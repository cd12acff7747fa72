/**
 * Every benchmark in smoke mode, one after another: each `bench:*` npm script of package.json
 * (but this one) runs with BENCH_SMOKE=1, which gives one short round through the same code and
 * the same checks as its full run. Fails if any of them fails; the others still run, so one
 * report names every broken benchmark.
 *
 *   npm run bench:smoke     # npx tsx bench/run-smoke.ts
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { benchmarkScripts, packageScripts } from "./lib/benchmark-scripts.js";
import { markdownTable } from "./lib/measure.js";

const repo = fileURLToPath(new URL("..", import.meta.url));
/**
 * Past this a benchmark is taken for hung. Generous because on a fresh machine bench:start and
 * bench:stores first build the modules with the engine double (an npm install each).
 */
const TIMEOUT_MS = 600_000;

interface Result {
  script: string;
  outcome: string;
  ok: boolean;
  seconds: number;
}

/** The process group of the benchmark running now, to end it with its workers and servers. */
let running: number | undefined;

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killGroup(running);
    process.exit(signal === "SIGINT" ? 130 : 143);
  });
}

function run(script: string): Promise<Result> {
  const started = Date.now();
  const seconds = () => (Date.now() - started) / 1000;
  return new Promise((resolve) => {
    // Its own process group: a hung benchmark is killed together with what it started.
    const child = spawn("npm", ["run", script], { cwd: repo, env: { ...process.env, BENCH_SMOKE: "1" }, stdio: "inherit", detached: true });
    running = child.pid;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, TIMEOUT_MS);
    const done = (outcome: string, ok: boolean) => {
      clearTimeout(timer);
      running = undefined;
      resolve({ script, outcome, ok, seconds: seconds() });
    };
    child.once("error", (e) => done(`could not start: ${e.message}`, false));
    child.once("exit", (code, signal) => {
      if (timedOut) done(`killed after ${TIMEOUT_MS / 1000} s`, false);
      else if (code === 0) done("ok", true);
      else done(code === null ? `killed by ${signal}` : `exit ${code}`, false);
    });
  });
}

async function main(): Promise<void> {
  const scripts = benchmarkScripts(packageScripts(repo));
  if (scripts.length === 0) throw new Error("package.json has no bench:* script");
  const results: Result[] = [];
  for (const script of scripts) {
    console.log(`\n=== npm run ${script} (BENCH_SMOKE=1)\n`);
    results.push(await run(script));
  }
  const failed = results.filter((r) => !r.ok);
  const total = results.reduce((s, r) => s + r.seconds, 0);
  console.log(`\n# Benchmarks in smoke mode\n`);
  console.log(markdownTable(["npm script", "result", "s"], results.map((r) => [r.script, r.outcome, r.seconds.toFixed(1)]), 2));
  console.log(`\n${results.length} benchmarks in ${total.toFixed(1)} s; ${failed.length === 0 ? "all passed." : `FAILED: ${failed.map((r) => r.script).join(", ")}.`}`);
  if (failed.length > 0) process.exitCode = 1;
}

await main();
