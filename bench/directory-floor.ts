/**
 * The floor under the cache-volume store: what one process per operation under an exclusive
 * lock costs before any breaker logic, against the real state program doing the same job.
 *
 *   npx tsx bench/directory-floor.ts
 *
 * With 1, 2 and 8 concurrent workers, each operation spawns `flock <lockfile> node ...`, so the
 * lock is taken before node starts and released when it exits (as the LOCKED cache volume
 * serialises state containers):
 *   floor          `node -e` reads a counter file, adds one, writes a temporary file (fsync)
 *                  and renames it over the counter;
 *   state program  `node state-op.mjs`, the bundled program the state container runs
 *                  (lib/store/volume/state-op-program.generated.ts), with CB_STATE_DIR and a
 *                  `record` request in CB_REQUEST (each under a permit of its own, as records
 *                  are idempotent per permit); it parses, transitions, and writes the
 *                  breaker's JSON through a temporary file and a rename.
 * Lost updates = expected count − final count (the counter, or the breaker's `successes`); any
 * lost update fails the run. Rounds alternate the two variants at each concurrency. A control
 * batch runs the floor's counter without flock, to show that the check does catch lost updates.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DEFAULT_POLICY } from "../lib/core/policy.js";
import type { BreakerState } from "../lib/core/state.js";
import type { StateRequest, StateResponse } from "../lib/store/request.js";
import { STATE_OP_PROGRAM } from "../lib/store/volume/state-op-program.generated.js";
import { fixed, machineLine, markdownTable, median, ratio, relativeSpread, spread } from "./lib/measure.js";
import { FLOOR_SCRIPT } from "./lib/floor-script.js";
import { printSmokeNotice, runSize } from "./lib/smoke.js";

const run = promisify(execFile);

const ROUNDS = runSize("BENCH_ROUNDS", 3, 1);
/**
 * Operations per batch, shared out among the workers so every concurrency does the same work
 * (rounded up to a multiple of the workers). Smoke mode keeps two, so that a record repeated on
 * the same breaker is still checked.
 */
const OPS = runSize("BENCH_OPS", 16, 2);
const WORKERS = [1, 2, 8];
const BREAKER = "bench-counter";

let permits = 0;

/**
 * A `record` of a success under a permit of its own: records are idempotent per permit id, so a
 * second report under the same id would be a `duplicate` that counts nothing.
 */
function recordRequest(): StateRequest {
  const id = `bench-${process.pid}-${permits++}`;
  return {
    op: "record",
    breaker: BREAKER,
    policy: DEFAULT_POLICY,
    permit: { id, breaker: BREAKER, generation: 0, probe: false, issuedAt: 0, expiresAt: null },
    outcome: { ok: true, durationMs: 1 },
  };
}

interface Variant {
  name: string;
  /** Prepares an empty target in `dir`; returns one operation and a reader of the final count. */
  setup(dir: string): { op: () => Promise<void>; count: () => number };
}

const baseEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

function floor(locked = true): Variant {
  return {
    name: locked ? "floor: flock + node -e counter" : "control: node -e counter, no flock",
    setup(dir) {
      const lock = join(dir, "lock");
      const file = join(dir, "counter");
      const [command, args] = locked
        ? ["flock", [lock, process.execPath, "-e", FLOOR_SCRIPT]]
        : [process.execPath, ["-e", FLOOR_SCRIPT]];
      return {
        op: async () => {
          await run(command, args, { env: { ...baseEnv, COUNTER_FILE: file } });
        },
        count: () => Number(readFileSync(file, "utf8")),
      };
    },
  };
}

function stateProgram(program: string): Variant {
  return {
    name: "state program: flock + node state-op.mjs",
    setup(dir) {
      const lock = join(dir, "lock");
      const state = join(dir, "state");
      mkdirSync(state);
      return {
        op: async () => {
          const { stdout } = await run("flock", [lock, process.execPath, program], {
            env: { ...baseEnv, CB_STATE_DIR: state, CB_REQUEST: JSON.stringify(recordRequest()) },
          });
          const response = JSON.parse(stdout) as StateResponse;
          if (response.effect !== "counted" || response.problems.length > 0) {
            throw new Error(`state program answered effect ${JSON.stringify(response.effect)}, problems ${JSON.stringify(response.problems)}`);
          }
        },
        count: () => {
          const s = JSON.parse(readFileSync(join(state, "breakers", `${BREAKER}.json`), "utf8")) as BreakerState;
          return s.counters.successes;
        },
      };
    },
  };
}

interface Result {
  opsPerSecond: number;
  lost: number;
}

let batchNo = 0;

async function batch(root: string, variant: Variant, workers: number, ops: number): Promise<Result> {
  const dir = join(root, `batch-${batchNo++}`);
  mkdirSync(dir);
  const { op, count } = variant.setup(dir);
  const each = Math.ceil(ops / workers);
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = 0; i < each; i++) await op();
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const expected = each * workers;
  const lost = expected - count();
  rmSync(dir, { recursive: true, force: true });
  return { opsPerSecond: expected / seconds, lost };
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "cb-bench-floor-"));
  try {
    const program = join(root, "state-op.mjs");
    writeFileSync(program, STATE_OP_PROGRAM);
    const variants = [floor(), stateProgram(program)];
    // Warm-up: page in node and the program, and make sure both variants work.
    for (const v of variants) await batch(root, v, 2, 4);

    const results = new Map<string, Result[]>();
    const key = (v: Variant, w: number) => `${w}:${v.name}`;
    for (let round = 0; round < ROUNDS; round++) {
      for (const w of WORKERS) {
        const order = round % 2 === 0 ? variants : [...variants].reverse();
        for (const v of order) {
          const r = await batch(root, v, w, OPS);
          results.set(key(v, w), [...(results.get(key(v, w)) ?? []), r]);
        }
      }
    }

    // Control: the same counter without the lock, to show that lost updates are detected when
    // nothing serialises the read-modify-write (how many are lost depends on timing).
    const control = await batch(root, floor(false), 8, OPS);

    let totalLost = 0;
    const rows: string[][] = [];
    for (const w of WORKERS) {
      const floorRuns = results.get(key(variants[0]!, w))!;
      for (const v of variants) {
        const runs = results.get(key(v, w))!;
        const ops = runs.map((r) => r.opsPerSecond);
        const perRound = median(runs.map((r, i) => r.opsPerSecond / floorRuns[i]!.opsPerSecond));
        const lost = runs.reduce((sum, r) => sum + r.lost, 0);
        totalLost += lost;
        rows.push([
          String(w),
          v.name,
          fixed(1)(median(ops)),
          `${spread(ops, fixed(1))} (${relativeSpread(ops)})`,
          fixed(0)(1000 / median(ops)),
          ratio(perRound),
          `${lost} of ${runs.length * Math.ceil(OPS / w) * w}`,
        ]);
      }
    }
    console.log(`# Directory floor: one process per operation under flock`);
    printSmokeNotice();
    console.log(`\n${machineLine()}; ${ROUNDS} rounds alternating the variants, ${OPS} operations per batch shared among the workers.\n`);
    console.log(
      markdownTable(["workers", "variant", "ops/s (median)", "spread p25–p75", "ms per op", "× floor", "lost updates"], rows, 2),
    );
    console.log(
      `\nControl (not a benchmark): 8 workers running the floor's counter without flock lost ${control.lost} of ${Math.ceil(OPS / 8) * 8} updates.`,
    );
    if (totalLost !== 0) {
      console.error(`\n${totalLost} updates were lost: the lock did not serialise the read-modify-write.`);
      process.exitCode = 1;
    } else {
      console.log(`\nCheck: no update was lost.`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
