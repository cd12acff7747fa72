/**
 * How the stored state and the work a store does per protected call grow with configuration.
 *
 *   npx tsx bench/state-growth.ts
 *
 * A store applies every operation to serialised state: parse (with schema validation), run the
 * transition, serialise. One protected call is two such operations (acquire, then record), which
 * is what is timed here, through `applyRequest` exactly as the stores call it. Three sweeps, each
 * reported as a ratio to its smallest configuration measured in the same round:
 *   - history_size 10, 100, 1000, with the history full (real open/half-open/closed cycles);
 *   - failure-rate window 10, 100, 1000, with the window full;
 *   - breakers in a directory store, 1, 10, 100, 1000 typical states, read all at once with
 *     `handleRequest(dir, { op: "read", breakers: null }, now)` (files in a temporary directory).
 * Calls use a 10% failure mix (every tenth fails) that never trips the breaker.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_POLICY, type BreakerPolicy } from "../lib/core/policy.js";
import { serializeState } from "../lib/core/serialize.js";
import { initialState, type BreakerState } from "../lib/core/state.js";
import { acquire, record } from "../lib/core/transitions.js";
import { applyRequest } from "../lib/store/apply.js";
import { handleRequest } from "../lib/store/directory/state-directory.js";
import {
  batchSize,
  bytes,
  elapsedNs,
  fixed,
  machineLine,
  markdownTable,
  median,
  nowNs,
  ratio,
  relativeSpread,
  rotate,
  spread,
} from "./lib/measure.js";
import { printSmokeNotice, runSize, SMOKE } from "./lib/smoke.js";

const ROUNDS = runSize("BENCH_ROUNDS", 15, 1);
const BATCH_MS = runSize("BENCH_BATCH_MS", 30, 1);
/** At least one warm-up batch runs however short this is: it sizes the batches. */
const WARMUP_MS = SMOKE ? 1 : 200;
const T0 = Date.UTC(2026, 0, 1);

const okOutcome = { ok: true, durationMs: 1200 };
const failOutcome = { ok: false, durationMs: 900, exitCode: 1, error: "step deploy exited 1" };

/** Drives the core the way a caller does, on a simulated clock, to build realistic states. */
class Driver {
  now = T0;
  private permits = 0;
  constructor(public state: BreakerState, public policy: BreakerPolicy) {}

  call(ok: boolean): void {
    const a = acquire(this.state, this.policy, this.now, `seed-${this.permits++}`);
    this.state = a.state;
    if (!a.decision.admitted) throw new Error(`seeding refused: ${a.decision.reason}`);
    this.now += 1000;
    this.state = record(this.state, this.policy, this.now, a.decision.permit, ok ? okOutcome : failOutcome).state;
    this.now += 1000;
  }

  status(): BreakerState["status"] {
    return this.state.status;
  }

  /** closed → open (consecutive failures) → half-open (time) → closed (probe success). */
  cycle(): void {
    while (this.status() === "closed") this.call(false);
    this.now += this.policy.maxResetTimeoutMs + 1;
    this.call(true);
    for (let i = 1; i < this.policy.successThreshold; i++) this.call(true);
    if (this.status() !== "closed") throw new Error(`cycle did not close: ${this.status()}`);
  }

  /** Fills the history with at least `size` transitions, ending closed. */
  fillHistory(size: number): void {
    while (this.state.history.length < size) this.cycle();
  }
}

interface Config {
  label: string;
  policy: BreakerPolicy;
  text: string;
  calls: number;
}

function consecutive(historySize: number): BreakerPolicy {
  return { ...DEFAULT_POLICY, historySize };
}

function failureRate(windowSize: number): BreakerPolicy {
  return {
    ...DEFAULT_POLICY,
    trip: { kind: "failure-rate", rate: 0.5, windowSize, minimumCalls: Math.min(10, windowSize) },
  };
}

function historyConfig(size: number): Config {
  const policy = consecutive(size);
  const d = new Driver(initialState("deploy-prod", T0), policy);
  d.fillHistory(size);
  for (let i = 0; i < 20; i++) d.call(i % 10 !== 9);
  if (d.state.history.length !== size) throw new Error(`history is ${d.state.history.length}, wanted ${size}`);
  return { label: `history_size ${size}`, policy, text: serializeState(d.state), calls: 0 };
}

function windowConfig(size: number): Config {
  // History at the default size (20, full), built under the consecutive policy, then the window
  // filled under the failure-rate policy.
  const d = new Driver(initialState("deploy-prod", T0), DEFAULT_POLICY);
  d.fillHistory(DEFAULT_POLICY.historySize);
  d.policy = failureRate(size);
  for (let i = 0; i < size; i++) d.call(i % 10 !== 9);
  if (d.state.window.length !== size || d.state.status !== "closed") throw new Error(`window not filled to ${size}`);
  return { label: `window ${size}`, policy: d.policy, text: serializeState(d.state), calls: 0 };
}

/** One protected call as a store performs it: two parse + transition + serialise operations. */
function protectedCall(c: Config): void {
  const now = T0 + 10_000_000 + c.calls;
  const a = applyRequest(
    { op: "acquire", breaker: "deploy-prod", policy: c.policy, permitId: `p${c.calls}`, expectedDurationMs: 0 },
    c.text,
    now,
  );
  const decision = a.response.decision;
  if (a.next === null || !decision?.admitted) throw new Error(`${c.label}: call refused`);
  c.text = serializeState(a.next);
  const outcome = c.calls % 10 === 9 ? failOutcome : okOutcome;
  const r = applyRequest({ op: "record", breaker: "deploy-prod", policy: c.policy, permit: decision.permit, outcome }, c.text, now);
  if (r.next === null) throw new Error(`${c.label}: record wrote nothing`);
  c.text = serializeState(r.next);
  c.calls += 1;
}

/** Times `configs` in interleaved rounds; returns ns per unit of work per config. */
function measure<C>(configs: C[], work: (c: C) => void): Map<C, number[]> {
  const sizes = new Map<C, number>();
  for (const c of configs) {
    const until = Date.now() + WARMUP_MS;
    let perCall = Number.POSITIVE_INFINITY;
    let n = 1;
    while (Date.now() < until) {
      const start = nowNs();
      for (let i = 0; i < n; i++) work(c);
      perCall = elapsedNs(start) / n;
      n = Math.min(n * 2, 1000);
    }
    sizes.set(c, batchSize(perCall, BATCH_MS, 1, 100_000));
  }
  const out = new Map<C, number[]>(configs.map((c) => [c, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of rotate(configs, round)) {
      const n = sizes.get(c)!;
      const start = nowNs();
      for (let i = 0; i < n; i++) work(c);
      out.get(c)!.push(elapsedNs(start) / n);
    }
  }
  return out;
}

/** Median of per-round ratios to the first config. */
function ratios<C>(configs: C[], times: Map<C, number[]>): Map<C, number> {
  const base = times.get(configs[0]!)!;
  return new Map(configs.map((c) => [c, median(times.get(c)!.map((t, r) => t / base[r]!))]));
}

function stateSweep(title: string, configs: Config[]): string {
  const bytesOf = (c: Config) => Buffer.byteLength(c.text);
  const startBytes = new Map(configs.map((c) => [c, bytesOf(c)]));
  const times = measure(configs, protectedCall);
  const r = ratios(configs, times);
  const base = startBytes.get(configs[0]!)!;
  const rows = configs.map((c) => {
    const t = times.get(c)!;
    return [
      c.label,
      bytes(startBytes.get(c)!),
      ratio(startBytes.get(c)! / base),
      fixed(1)(median(t) / 1000),
      `${spread(t, (n) => (n / 1000).toFixed(1))} (${relativeSpread(t)})`,
      ratio(r.get(c)!),
    ];
  });
  return `## ${title}\n\n${markdownTable(
    ["configuration", "state size", "size ×", "µs per call (median)", "spread p25–p75", "time ×"],
    rows,
  )}`;
}

interface DirConfig {
  label: string;
  dir: string;
  count: number;
  bytes: number;
}

function typicalState(name: string): BreakerState {
  const d = new Driver(initialState(name, T0), DEFAULT_POLICY);
  d.fillHistory(DEFAULT_POLICY.historySize);
  for (let i = 0; i < 30; i++) d.call(i % 10 !== 9);
  return d.state;
}

function directorySweep(root: string, counts: number[]): string {
  const template = typicalState("template");
  const configs: DirConfig[] = counts.map((count) => {
    const dir = join(root, `n${count}`);
    const breakers = join(dir, "breakers");
    mkdirSync(breakers, { recursive: true });
    let total = 0;
    for (let i = 0; i < count; i++) {
      const name = `service-${String(i).padStart(4, "0")}`;
      const text = serializeState({ ...template, name });
      total += Buffer.byteLength(text);
      writeFileSync(join(breakers, `${name}.json`), text);
    }
    return { label: `${count} breaker${count === 1 ? "" : "s"}`, dir, count, bytes: total };
  });
  const readAll = (c: DirConfig) => {
    const r = handleRequest(c.dir, { op: "read", breakers: null }, T0 + 20_000_000);
    if (r.states.length !== c.count || r.problems.length !== 0) throw new Error(`${c.label}: read ${r.states.length} states`);
  };
  const times = measure(configs, readAll);
  const r = ratios(configs, times);
  const rows = configs.map((c) => {
    const t = times.get(c)!;
    return [
      c.label,
      bytes(c.bytes),
      fixed(2)(median(t) / 1e6),
      `${spread(t, (n) => (n / 1e6).toFixed(2))} (${relativeSpread(t)})`,
      fixed(1)(median(t) / 1000 / c.count),
      ratio(r.get(c)!),
    ];
  });
  return `## Directory store, read all breakers\n\n${markdownTable(
    ["breakers", "bytes on disk", "ms per read-all (median)", "spread p25–p75", "µs per breaker", "time ×"],
    rows,
  )}`;
}

function main(): void {
  console.log(`# State growth: size and per-call store work`);
  printSmokeNotice();
  console.log(`\n${machineLine()}; ${ROUNDS} interleaved rounds per sweep, batches of ~${BATCH_MS} ms after a warm-up.`);
  console.log(`"µs per call" is one protected call as a store does it: acquire and record, each parse + transition + serialise.`);
  console.log(`"× " columns are medians of per-round ratios to the first row, measured in the same round.\n`);
  console.log(stateSweep("history_size (history full)", [10, 100, 1000].map(historyConfig)));
  console.log();
  console.log(stateSweep("failure-rate window size (window full, history 20)", [10, 100, 1000].map(windowConfig)));
  console.log();
  const root = mkdtempSync(join(tmpdir(), "cb-bench-growth-"));
  try {
    console.log(directorySweep(root, [1, 10, 100, 1000]));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main();
