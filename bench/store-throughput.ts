/**
 * What the real stores cost per state operation, against a floor measured in the same run,
 * and how many state execs one `execute` spends.
 *
 *   npx tsx bench/store-throughput.ts
 *
 * 1. Cache-volume store through the engine double. 1, 2 and 8 processes (bench/workers/
 *    volume-worker.ts), each with its own engine double on one shared state dir (a fresh one
 *    per process count), do acquire + record pairs on one breaker through `VolumeStateStore`:
 *    every request is one exec under the volume's LOCKED mount (flock + bwrap + node).
 *    Floor, in the same round: as many operations, by as many concurrent loops, of the bare
 *    lock-and-rename counter of bench/directory-floor.ts (flock + `node -e` per operation).
 * 2. Redis store. 1, 2 and 8 processes (bench/workers/redis-worker.ts, compiled with esbuild
 *    and run with plain node) do acquire + record pairs through `RedisStateStore` on one
 *    breaker of a throwaway loopback redis-server. Floor, in the same round and the same
 *    processes: for each store request, one GET of the breaker's key and one SET of that text
 *    (the two round trips an uncontended request makes, with the same payload).
 * 3. State execs per execute. `dagger call execute` stand-ins (each its own process) on a fresh
 *    double state dir: admitted calls of a trivial workflow, and calls rejected by an open
 *    breaker; execs whose args are the state program are counted per call from the exec log.
 *
 * Lost updates = expected count − final count (the shared breaker's `counters.admitted` +
 * `counters.successes`, two per pair, or the floor's counter); any lost update fails the run.
 *
 * Knobs: BENCH_ROUNDS (3, cache-volume section), BENCH_VOLUME_PAIRS (pairs per process per
 * round, 2), BENCH_REDIS_ROUNDS (5), BENCH_REDIS_PAIRS (300), BENCH_CALLS (3 of each kind),
 * BENCH_ONLY (comma-separated: volume, redis, execs). BENCH_SMOKE=1: one round of each, 1 volume
 * pair, 5 Redis pairs, 1 call of each kind, volume processes 1 and 2 only.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { readExecLog, runDaggerCall, volumeDir } from "../double/index.js";
import type { BreakerState } from "../lib/core/state.js";
import { RedisStateStore } from "../lib/store/redis/index.js";
import { CONFIG, isStateExec } from "../tests/e2e/harness.js";
import { RedisServer } from "../tests/store/redis-server.js";
import { fixed, machineLine, markdownTable, median, ratio, relativeSpread, spread } from "./lib/measure.js";
import { FLOOR_SCRIPT } from "./lib/floor-script.js";
import { printSmokeNotice, runSize, SMOKE } from "./lib/smoke.js";
import { bundleWorker } from "../tests/store/bundle-worker.js";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("..", import.meta.url));

const ROUNDS = runSize("BENCH_ROUNDS", 3, 1);
const VOLUME_PAIRS = runSize("BENCH_VOLUME_PAIRS", 2, 1);
const REDIS_PAIRS = runSize("BENCH_REDIS_PAIRS", 300, 5);
/** Redis batches are short (a fraction of a second), so they get more rounds. */
const REDIS_ROUNDS = runSize("BENCH_REDIS_ROUNDS", 5, 1);
const CALLS = runSize("BENCH_CALLS", 3, 1);
const ONLY = new Set((process.env.BENCH_ONLY ?? "volume,redis,execs").split(",").map((s) => s.trim()));
const PROCESSES = [1, 2, 8];
/**
 * Smoke mode leaves out 8 volume processes: each is tsx with its own engine double, and starting
 * eight takes 15 s on 2 cores, while 2 already share the breaker and the lock. Redis keeps 8 (its
 * workers start in milliseconds), so its many CAS conflicts are still checked.
 */
const VOLUME_PROCESSES = SMOKE ? [1, 2] : PROCESSES;
const BREAKER = "shared";
const VOLUME = "bench-throughput";

let failed = false;
function fail(message: string): void {
  console.error(`\n${message}`);
  failed = true;
  process.exitCode = 1;
}

// Worker processes: one JSON line per answer on stdout, commands one a line on stdin.

interface Span {
  start: number;
  end: number;
  conflicts?: number;
  writes?: number;
  exhausted?: number;
}

class Worker {
  private readonly answers: ((line: string) => void)[] = [];
  private readonly pending: string[] = [];
  private stderr = "";
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    let partial = "";
    child.stdout.on("data", (chunk: Buffer) => {
      partial += chunk.toString("utf8");
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        const waiter = this.answers.shift();
        if (waiter) waiter(line);
        else this.pending.push(line);
      }
    });
    child.stderr.on("data", (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString("utf8")).slice(-4000)));
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  /** The next line the worker prints; rejects if it exits first. */
  next(): Promise<string> {
    const line = this.pending.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      this.answers.push(resolve);
      void this.exited.then((code) => reject(new Error(`worker exited (${code}) before answering: ${this.stderr}`)));
    });
  }

  async ask<T>(command: string): Promise<T> {
    this.child.stdin.write(`${command}\n`);
    return JSON.parse(await this.next()) as T;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.stdin.end("exit\n");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 15_000);
      await this.exited;
      clearTimeout(timer);
    }
  }
}

async function startWorkers(count: number, start: (i: number) => ChildProcessWithoutNullStreams): Promise<Worker[]> {
  const t = Date.now();
  const workers = Array.from({ length: count }, (_, i) => new Worker(start(i)));
  try {
    for (const w of workers) {
      const ready = JSON.parse(await w.next()) as { ready?: boolean };
      if (!ready.ready) throw new Error("a worker did not say ready");
    }
  } catch (e) {
    await Promise.all(workers.map((w) => w.stop()));
    throw e;
  }
  console.error(`(${count} workers ready in ${Math.round((Date.now() - t) / 1000)} s)`);
  return workers;
}

/** Sends `command` to every worker at once; the span is from the first start to the last end. */
async function together(workers: Worker[], command: string): Promise<{ seconds: number; spans: Span[] }> {
  const spans = await Promise.all(workers.map((w) => w.ask<Span>(command)));
  const start = Math.min(...spans.map((s) => s.start));
  const end = Math.max(...spans.map((s) => s.end));
  return { seconds: (end - start) / 1000, spans };
}

interface Row {
  opsPerSecond: number[];
  ratios: number[];
  conflicts: number;
  requests: number;
  lost: number;
  expected: number;
}

const emptyRow = (): Row => ({ opsPerSecond: [], ratios: [], conflicts: 0, requests: 0, lost: 0, expected: 0 });

/**
 * Updates a store lost: every pair is two counted updates, an acquire (`counters.admitted`) and
 * a successful record (`counters.successes`); `pairs` includes each process's untimed warm-up pair.
 */
function lostUpdates(state: BreakerState, pairs: number): { lost: number; expected: number } {
  return { lost: 2 * pairs - state.counters.admitted - state.counters.successes, expected: 2 * pairs };
}

function throughputCells(row: Row, perOp: (opsPerSecond: number) => string): string[] {
  const ops = row.opsPerSecond;
  return [
    fixed(ops.length && median(ops) < 100 ? 1 : 0)(median(ops)),
    `${spread(ops, fixed(median(ops) < 100 ? 1 : 0))} (${relativeSpread(ops)})`,
    perOp(median(ops)),
    ratio(median(row.ratios)),
  ];
}

// 1. Cache-volume store through the engine double vs flock + node per operation.

/** `loops` concurrent loops of `each` locked counter operations in a fresh directory. */
async function floorBatch(root: string, loops: number, each: number): Promise<{ seconds: number; lost: number }> {
  const dir = mkdtempSync(join(root, "floor-"));
  const lock = join(dir, "lock");
  const file = join(dir, "counter");
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", COUNTER_FILE: file };
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: loops }, async () => {
      for (let i = 0; i < each; i++) await run("flock", [lock, process.execPath, "-e", FLOOR_SCRIPT], { env });
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const lost = loops * each - Number(readFileSync(file, "utf8"));
  rmSync(dir, { recursive: true, force: true });
  return { seconds, lost };
}

async function volumeSection(root: string): Promise<void> {
  const tsxCli = createRequire(import.meta.url).resolve("tsx/cli");
  const script = join(repoRoot, "bench", "workers", "volume-worker.ts");
  const rows = new Map<string, Row>();
  const row = (p: number, v: string) => rows.get(`${p}:${v}`) ?? rows.set(`${p}:${v}`, emptyRow()).get(`${p}:${v}`)!;

  // Loaded once for every process count; each count opens a fresh state dir on the first p.
  const all = await startWorkers(Math.max(...VOLUME_PROCESSES), (i) =>
    spawn(process.execPath, [tsxCli, "--no-deprecation", script, VOLUME, BREAKER, String(i)], {
      cwd: repoRoot,
      env: process.env,
      stdio: ["pipe", "pipe", "pipe"],
    }),
  );
  try {
    for (const p of VOLUME_PROCESSES) {
      const stateDir = mkdtempSync(join(root, `double-${p}-`));
      const workers = all.slice(0, p);
      const opened = await Promise.all(workers.map((w) => w.ask<{ opened?: boolean }>(`open ${stateDir}`)));
      if (!opened.every((o) => o.opened)) throw new Error("a worker did not open its store");
      const ops = 2 * VOLUME_PAIRS * p;
      for (let round = 0; round < ROUNDS; round++) {
        let floorOps = 0;
        let storeOps = 0;
        for (const variant of round % 2 === 0 ? ["floor", "store"] : ["store", "floor"]) {
          if (variant === "floor") {
            const r = await floorBatch(root, p, 2 * VOLUME_PAIRS);
            floorOps = ops / r.seconds;
            const f = row(p, "floor");
            f.opsPerSecond.push(floorOps);
            f.lost += r.lost;
            f.expected += ops;
          } else {
            const r = await together(workers, `go ${VOLUME_PAIRS}`);
            storeOps = ops / r.seconds;
            row(p, "store").opsPerSecond.push(storeOps);
          }
        }
        row(p, "floor").ratios.push(1);
        row(p, "store").ratios.push(storeOps / floorOps);
      }
      await Promise.all(workers.map((w) => w.ask("close")));
      const state = JSON.parse(readFileSync(join(volumeDir(stateDir, VOLUME), "breakers", `${BREAKER}.json`), "utf8")) as BreakerState;
      Object.assign(row(p, "store"), lostUpdates(state, p * (1 + VOLUME_PAIRS * ROUNDS)));
      rmSync(stateDir, { recursive: true, force: true });
    }
  } finally {
    await Promise.all(all.map((w) => w.stop()));
  }

  const table: string[][] = [];
  let lost = 0;
  for (const p of VOLUME_PROCESSES) {
    for (const [v, name] of [
      ["floor", "floor: flock + node -e counter"],
      ["store", "VolumeStateStore via SDK + double (acquire/record)"],
    ] as const) {
      const r = row(p, v);
      lost += r.lost;
      table.push([String(p), name, ...throughputCells(r, (o) => fixed(0)(1000 / o)), `${r.lost} of ${r.expected}`]);
    }
  }
  console.log(`## Cache-volume store through the engine double\n`);
  console.log(
    `${ROUNDS} rounds alternating floor and store; each process (tsx, started once) does ${VOLUME_PAIRS} acquire + record pairs per round ` +
      `(${2 * VOLUME_PAIRS} state operations), the floor as many operations in as many concurrent loops; ` +
      `a fresh double state dir per process count.\n`,
  );
  console.log(markdownTable(["processes", "variant", "ops/s (median)", "spread p25–p75", "ms per op", "× floor", "lost updates"], table, 2));
  console.log(
    `\nLost updates: for the floor, increments − final counter; for the store, 2 × pairs − (counters.admitted + ` +
      `counters.successes) of the shared breaker, counting each process's untimed warm-up pair.\n`,
  );
  if (lost !== 0) fail(`${lost} updates were lost in the cache-volume section.`);
}

// 2. Redis store vs a bare GET + SET.

async function redisSection(root: string): Promise<void> {
  const worker = join(root, "redis-worker.mjs");
  await bundleWorker(join(repoRoot, "bench", "workers", "redis-worker.ts"), worker);
  const server = await RedisServer.start();
  const rows = new Map<string, Row>();
  const row = (p: number, v: string) => rows.get(`${p}:${v}`) ?? rows.set(`${p}:${v}`, emptyRow()).get(`${p}:${v}`)!;
  try {
    for (const p of PROCESSES) {
      const prefix = `bench-${p}-${randomUUID()}:`;
      const workers = await startWorkers(p, (i) =>
        spawn(process.execPath, [worker], {
          env: { ...process.env, CB_REDIS_PORT: String(server.port), CB_PREFIX: prefix, CB_BREAKER: BREAKER, CB_WORKER: String(i) },
          stdio: ["pipe", "pipe", "pipe"],
        }),
      );
      const ops = 2 * REDIS_PAIRS * p;
      try {
        for (let round = 0; round < REDIS_ROUNDS; round++) {
          let floorOps = 0;
          let storeOps = 0;
          for (const variant of round % 2 === 0 ? ["bare", "store"] : ["store", "bare"]) {
            const r = await together(workers, `${variant} ${REDIS_PAIRS}`);
            if (variant === "bare") {
              floorOps = ops / r.seconds;
              row(p, "bare").opsPerSecond.push(floorOps);
            } else {
              storeOps = ops / r.seconds;
              const s = row(p, "store");
              s.opsPerSecond.push(storeOps);
              s.requests += ops;
              s.conflicts += r.spans.reduce((n, x) => n + (x.conflicts ?? 0), 0);
              if (r.spans.some((x) => (x.exhausted ?? 0) > 0)) fail(`${p} processes: a request gave up after every CAS attempt conflicted`);
            }
          }
          row(p, "bare").ratios.push(1);
          row(p, "store").ratios.push(storeOps / floorOps);
        }
      } finally {
        await Promise.all(workers.map((w) => w.stop()));
      }
      const reader = new RedisStateStore({ host: "127.0.0.1", port: server.port, prefix, timeoutMs: 10_000 });
      const state = (await reader.apply({ op: "read", breakers: [BREAKER] })).states[0];
      await reader.close();
      if (!state) throw new Error(`${p} processes: the breaker is missing from Redis`);
      Object.assign(row(p, "store"), lostUpdates(state, p * (1 + REDIS_PAIRS * REDIS_ROUNDS)));
    }
  } finally {
    await server.stop();
  }

  const table: string[][] = [];
  let lost = 0;
  for (const p of PROCESSES) {
    const bare = row(p, "bare");
    const store = row(p, "store");
    lost += store.lost;
    table.push([String(p), "floor: GET + SET with ioredis", ...throughputCells(bare, (o) => fixed(0)(1e6 / o)), "–", "–"]);
    table.push([
      String(p),
      "RedisStateStore (acquire/record)",
      ...throughputCells(store, (o) => fixed(0)(1e6 / o)),
      `${store.conflicts} (${((store.conflicts / store.requests) * 100).toFixed(1)}%)`,
      `${store.lost} of ${store.expected}`,
    ]);
  }
  console.log(`## Redis store vs a bare Redis round trip\n`);
  console.log(
    `${REDIS_ROUNDS} rounds alternating floor and store in the same processes; each process does ${REDIS_PAIRS} acquire + record ` +
      `pairs per round (${2 * REDIS_PAIRS} requests), or as many GET + SET floor operations; loopback redis-server, ` +
      `a fresh key prefix per process count.\n`,
  );
  console.log(
    markdownTable(
      ["processes", "variant", "ops/s (median)", "spread p25–p75", "µs per op", "× floor", "CAS conflicts (% of requests)", "lost updates"],
      table,
      2,
    ),
  );
  console.log(
    `\nLost updates: 2 × pairs − (counters.admitted + counters.successes) of the shared breaker, counting each ` +
      `process's untimed warm-up pair. CAS conflicts: compare-and-set writes redone, from each store's stats().\n`,
  );
  if (lost !== 0) fail(`${lost} updates were lost in the Redis section.`);
}

// 3. State execs per execute, from the double's exec log.

async function execsSection(root: string): Promise<void> {
  const stateDir = mkdtempSync(join(root, "calls-"));
  const call = async (...argv: string[]) => {
    const started = process.hrtime.bigint();
    const before = readExecLog(stateDir).length;
    const r = await runDaggerCall(["execute", "--workflow", "flaky", "--config", CONFIG, ...argv], {
      env: { DAGGER_DOUBLE_STATE_DIR: stateDir },
      timeoutMs: 120_000,
    });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const execs = readExecLog(stateDir).slice(before) as { callId: string; args: string[]; cached: boolean; durationMs: number }[];
    const ids = new Set(execs.map((e) => e.callId));
    if (ids.size !== 1) throw new Error(`one call logged execs under ${ids.size} call ids (exit ${r.code}): ${r.stderr.slice(-2000)}`);
    const [callId] = ids;
    // The module function's own time, from the double's call log: the call without the start-up
    // of the CLI process, the module process and the constructor.
    const fn = readFileSync(join(stateDir, "call-log.jsonl"), "utf8")
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { callId: string; function: string; durationMs: number })
      .find((c) => c.callId === callId && c.function === "CircuitBreaker.execute");
    if (!fn) throw new Error(`no CircuitBreaker.execute in the call log for call ${callId}`);
    return {
      ...r,
      ms,
      functionMs: fn.durationMs,
      state: execs.filter((e) => isStateExec(e.args)).length,
      stateMs: execs.filter((e) => isStateExec(e.args)).reduce((ms, e) => ms + e.durationMs, 0),
      otherRun: execs.filter((e) => !isStateExec(e.args) && !e.cached).length,
      otherCached: execs.filter((e) => !isStateExec(e.args) && e.cached).length,
    };
  };
  const rejectedArgs = ["--breaker", "bench-rejected", "--failure-threshold", "1", "--reset-timeout", "3600"];
  const admittedArgs = ["--breaker", "bench-admitted", "--params", "SERVICE_UP=true"];
  // Warm-up, untimed: registers the module in the fresh state dir, and one failure opens the breaker.
  const opener = await call(...rejectedArgs);
  if (opener.code === 0 || !opener.stderr.includes("exited with code 3")) throw new Error(`the opening call did not fail as planned: ${opener.stderr}`);

  type Result = Awaited<ReturnType<typeof call>>;
  const results: Record<"admitted" | "rejected", Result[]> = { admitted: [], rejected: [] };
  for (let i = 0; i < CALLS; i++) {
    for (const kind of i % 2 === 0 ? (["admitted", "rejected"] as const) : (["rejected", "admitted"] as const)) {
      const r = await call(...(kind === "admitted" ? admittedArgs : rejectedArgs));
      if (kind === "admitted" && (r.code !== 0 || r.stdout.trim() !== "service up")) throw new Error(`admitted call failed: ${r.stderr}`);
      if (kind === "rejected" && (r.code === 0 || !r.stderr.includes('circuit breaker "bench-rejected" is open'))) {
        throw new Error(`call was not rejected: ${r.code} ${r.stderr}`);
      }
      results[kind].push(r);
    }
  }
  rmSync(stateDir, { recursive: true, force: true });

  const admittedMs = median(results.admitted.map((r) => r.ms));
  const admittedFnMs = median(results.admitted.map((r) => r.functionMs));
  const table = (["admitted", "rejected"] as const).map((kind) => {
    const rs = results[kind];
    const ms = rs.map((r) => r.ms);
    const fnMs = rs.map((r) => r.functionMs);
    return [
      kind === "admitted" ? "admitted (workflow runs, succeeds)" : "rejected (breaker open)",
      rs.map((r) => r.state).join(", "),
      rs.map((r) => `${r.otherRun} + ${r.otherCached}`).join(", "),
      fixed(0)(median(rs.map((r) => r.stateMs))),
      fixed(1)(median(ms) / 1000),
      `${spread(ms, (n) => (n / 1000).toFixed(1))} (${relativeSpread(ms)})`,
      ratio(median(ms) / admittedMs),
      fixed(1)(median(fnMs) / 1000),
      `${spread(fnMs, (n) => (n / 1000).toFixed(1))} (${relativeSpread(fnMs)})`,
      ratio(median(fnMs) / admittedFnMs),
    ];
  });
  console.log(`## State execs per execute\n`);
  console.log(
    `${CALLS} calls of each kind, alternating, each \`execute --workflow flaky --config ${CONFIG}\` in its own process ` +
      `(\`runDaggerCall\`) on one fresh double state dir, after one untimed call that registers the module and opens ` +
      `the breaker of the rejected calls (\`${rejectedArgs.join(" ")}\`); admitted calls use \`${admittedArgs.join(" ")}\`.\n`,
  );
  console.log(
    markdownTable(
      [
        "execute",
        "state execs per call",
        "other execs per call (run + from cache)",
        "state exec ms per call (median)",
        "wall s per call (median)",
        "spread p25–p75",
        "× admitted",
        "execute function s (median)",
        "spread p25–p75",
        "× admitted",
      ],
      table,
      1,
    ),
  );
  console.log(
    `\nWall time is the whole \`dagger-call\` process. The execute function's time (from the double's call log) ` +
      `leaves out the CLI process and the (cached) constructor but includes the start-up of the module process ` +
      `the double spawns for the function. State exec ms is the sum of the state execs' durations in the exec log. ` +
      `The untimed opening call (admitted, failed) spent ${opener.state} state execs.`,
  );
  const expect = (kind: "admitted" | "rejected", n: number) => {
    const bad = results[kind].filter((r) => r.state !== n);
    if (bad.length) fail(`${bad.length} ${kind} calls did not spend exactly ${n} state execs: ${bad.map((r) => r.state).join(", ")}`);
  };
  expect("admitted", 2);
  expect("rejected", 1);
  if (results.rejected.some((r) => r.otherRun + r.otherCached > 0)) fail("a rejected call ran something other than the state program");
  console.log("");
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "cb-bench-stores-"));
  mkdirSync(root, { recursive: true });
  const load = () => loadavg().map((n) => n.toFixed(1)).join(" ");
  console.log(`# Store throughput`);
  printSmokeNotice();
  console.log(`\n${machineLine()}; load average ${load()} at start.\n`);
  const started = Date.now();
  try {
    for (const [name, section] of [
      ["volume", volumeSection],
      ["redis", redisSection],
      ["execs", execsSection],
    ] as const) {
      if (!ONLY.has(name)) continue;
      const t = Date.now();
      await section(root);
      console.error(`(${name} section: ${Math.round((Date.now() - t) / 1000)} s)`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  console.log(`Load average ${load()} at the end; the run took ${Math.round((Date.now() - started) / 1000)} s.`);
  console.log(failed ? "\nCheck: FAILED (see above)." : "\nCheck: no update was lost; state execs as expected.");
}

await main();
