/**
 * What a concurrency limit (`max_concurrent_calls`) costs in state operations per call, and
 * what its lease bookkeeping costs the pure core per acquire + record.
 *
 *   npx tsx bench/concurrency-limit.ts
 *
 * Part 1, state operations per call (counted, not timed; deterministic). The real
 * `runProtected` / `acquirePermit` against a `MemoryStateStore`, each caller through its own
 * wrapper that counts `apply` calls by op. Time is virtual: one fake clock shared by the
 * store and every caller, and a `sleep` that parks the caller until the simulation moves the
 * clock to its wake-up time (a discrete-event loop: run every ready continuation, then jump to
 * the earliest wake-up). Draws come from `seededRandom`. A protected call's run is a sleep of
 * its duration. Scenarios, all run in this process:
 *   baseline   no limit: 8 callers at once, 10 s calls; every call is acquire + record;
 *   (a)        limit 2, admitted without waiting: 8 callers one after another;
 *   (b)        limit 2, admitted after waiting: 8 (and 16) callers at once, 10 s calls,
 *              queue_timeout 300 s (long enough for all of them);
 *   (c)        limit 2, refused: both slots held by calls that outlast the wait; 8 callers with
 *              queue_timeout 0, and 8 with queue_timeout 30 s.
 * Reported as ops per call and as a ratio to the baseline's ops per call, from the same run.
 *
 * Part 2, wall clock of the pure core (`acquire` + `record` from lib/core/transitions.ts on a
 * state held in a variable): no limit (baseline), limit 2, and limit 2 with the other slot held
 * by a long call. Interleaved rounds after a warm-up; ratios are medians of per-round ratios.
 */
import type { CallOutcome } from "../lib/core/outcome.js";
import { DEFAULT_POLICY, type BreakerPolicy } from "../lib/core/policy.js";
import { initialState, type BreakerState } from "../lib/core/state.js";
import { acquire, record } from "../lib/core/transitions.js";
import { ConcurrencyLimitError } from "../lib/protection/errors.js";
import type { BreakerObserver } from "../lib/protection/observer.js";
import { runProtected } from "../lib/protection/run-protected.js";
import { MemoryStateStore } from "../lib/store/memory-store.js";
import type { StateRequest, StateResponse } from "../lib/store/request.js";
import type { StateStore } from "../lib/store/state-store.js";
import { seededRandom } from "../lib/workflow/backoff.js";
import {
  batchSize,
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

const ROUNDS = runSize("BENCH_ROUNDS", 21, 1);
const BATCH_MS = runSize("BENCH_BATCH_MS", 30, 1);
/** At least one warm-up batch runs however short this is: it sizes the batches. */
const WARMUP_MS = SMOKE ? 1 : 300;
const T0 = Date.UTC(2026, 0, 1);
const BREAKER = "deploy-prod";
const CALL_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// Part 1: state operations per call

/** A fake clock with sleeps that wake in time order when the simulation advances the clock. */
class VirtualTime {
  now: number;
  private timers: { at: number; seq: number; wake: () => void }[] = [];
  private seq = 0;

  constructor(start: number) {
    this.now = start;
  }

  readonly clock = (): number => this.now;

  readonly sleep = (ms: number): Promise<void> =>
    new Promise<void>((wake) => {
      this.timers.push({ at: this.now + Math.max(0, ms), seq: this.seq++, wake });
    });

  /**
   * Runs until every task has settled. Each step lets every ready continuation run (the memory
   * store does no I/O, so one macrotask turn drains them), then moves the clock to the earliest
   * wake-up and wakes that sleeper.
   */
  async run<T>(tasks: Promise<T>[]): Promise<T[]> {
    let settled = false;
    const all = Promise.all(tasks).finally(() => {
      settled = true;
    });
    all.catch(() => {});
    for (;;) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (settled) return all;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      if (next === undefined) throw new Error("simulation stalled: tasks pending and nobody sleeping");
      this.now = Math.max(this.now, next.at);
      next.wake();
    }
  }
}

type CountedOp = StateRequest["op"];

/** Passes requests to a shared store and counts them by op, for one caller. */
class CountingStore implements StateStore {
  readonly description: string;
  readonly counts = new Map<CountedOp, number>();

  constructor(private readonly inner: StateStore) {
    this.description = inner.description;
  }

  async apply(request: StateRequest): Promise<StateResponse> {
    this.counts.set(request.op, (this.counts.get(request.op) ?? 0) + 1);
    return this.inner.apply(request);
  }

  count(op: CountedOp): number {
    return this.counts.get(op) ?? 0;
  }

  get total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }
}

interface CallerResult {
  admitted: boolean;
  /** Virtual ms waited for a slot before admission or refusal. */
  waitedMs: number;
  acquires: number;
  records: number;
  total: number;
}

interface Simulation {
  time: VirtualTime;
  inner: MemoryStateStore;
  random: () => number;
}

function simulation(seed: number): Simulation {
  const time = new VirtualTime(T0);
  return { time, inner: new MemoryStateStore(time.clock), random: seededRandom(seed) };
}

/** One protected call through `runProtected`, counting its own state operations. */
async function caller(sim: Simulation, policy: BreakerPolicy, queueTimeoutMs: number, runMs: number): Promise<CallerResult> {
  const store = new CountingStore(sim.inner);
  let waitedMs = 0;
  const observer: BreakerObserver = {
    observe(event) {
      if (event.kind === "admitted" || event.kind === "rejected") waitedMs = event.waitedMs;
    },
  };
  let admitted = true;
  try {
    await runProtected({
      store,
      breaker: BREAKER,
      policy,
      what: `workflow "deploy"`,
      expectedDurationMs: runMs,
      clock: sim.time.clock,
      observer,
      admission: { queueTimeoutMs, sleep: sim.time.sleep, random: sim.random },
      run: async () => {
        await sim.time.sleep(runMs);
        const outcome: CallOutcome = { ok: true, durationMs: runMs };
        return { outcome, value: null };
      },
    });
  } catch (e) {
    if (!(e instanceof ConcurrencyLimitError)) throw e;
    admitted = false;
  }
  return { admitted, waitedMs, acquires: store.count("acquire"), records: store.count("record"), total: store.total };
}

async function storedState(sim: Simulation): Promise<BreakerState> {
  const r = await sim.inner.apply({ op: "read", breakers: [BREAKER] });
  const s = r.states[0];
  if (s === undefined) throw new Error("the breaker is missing from the memory store");
  return s;
}

interface ScenarioResult {
  label: string;
  callers: CallerResult[];
  /** The state's counters at the end, for the cross-check against the counted operations. */
  limitRefusals: number;
  queuedCalls: number;
  holders: number;
}

const limited = (max: number | null): BreakerPolicy => ({ ...DEFAULT_POLICY, maxConcurrentCalls: max });

/** `n` callers at once, no holders. */
async function racing(label: string, seed: number, policy: BreakerPolicy, n: number, queueTimeoutMs: number): Promise<ScenarioResult> {
  const sim = simulation(seed);
  const callers = await sim.time.run(Array.from({ length: n }, () => caller(sim, policy, queueTimeoutMs, CALL_MS)));
  const s = await storedState(sim);
  return { label, callers, limitRefusals: s.counters.limitRefusals, queuedCalls: s.counters.queuedCalls, holders: 0 };
}

/** `n` callers one after another: never more than one call in flight. */
async function sequential(label: string, seed: number, policy: BreakerPolicy, n: number): Promise<ScenarioResult> {
  const sim = simulation(seed);
  const chain = async (): Promise<CallerResult[]> => {
    const out: CallerResult[] = [];
    for (let i = 0; i < n; i++) out.push(await caller(sim, policy, 300_000, CALL_MS));
    return out;
  };
  const [callers] = await sim.time.run([chain()]);
  const s = await storedState(sim);
  return { label, callers: callers!, limitRefusals: s.counters.limitRefusals, queuedCalls: s.counters.queuedCalls, holders: 0 };
}

/**
 * Both slots taken by calls of an hour (their leases outlive any wait here), then `n` callers
 * started together once the holders are in; only the callers' operations are counted.
 */
async function refused(label: string, seed: number, n: number, queueTimeoutMs: number): Promise<ScenarioResult> {
  const sim = simulation(seed);
  const policy = limited(2);
  const hour = 3_600_000;
  const holders = [caller(sim, policy, 0, hour), caller(sim, policy, 0, hour)];
  const late = (async () => {
    await sim.time.sleep(1000);
    return Promise.all(Array.from({ length: n }, () => caller(sim, policy, queueTimeoutMs, CALL_MS)));
  })();
  const [held, callers] = await sim.time.run([Promise.all(holders), late]);
  if (held === undefined || callers === undefined || !held.every((h) => h.admitted)) throw new Error(`${label}: a holder was refused`);
  const s = await storedState(sim);
  return { label, callers, limitRefusals: s.counters.limitRefusals, queuedCalls: s.counters.queuedCalls, holders: 2 };
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

interface Row {
  label: string;
  callers: CallerResult[];
}

async function opsSection(): Promise<{ table: string; notes: string[]; problems: string[] }> {
  const baseline = await racing("baseline: no limit, 8 callers at once", 1, limited(null), 8, 0);
  const scenarios: ScenarioResult[] = [
    baseline,
    await sequential("(a) limit 2, 8 callers one after another", 2, limited(2), 8),
    await racing("(b) limit 2, 8 callers at once, queue_timeout 300 s", 3, limited(2), 8, 300_000),
    await racing("(b) limit 2, 16 callers at once, queue_timeout 300 s", 4, limited(2), 16, 300_000),
    await refused("(c) limit 2 full, queue_timeout 0", 5, 8, 0),
    await refused("(c) limit 2 full for the whole wait, queue_timeout 30 s", 6, 8, 30_000),
  ];
  const problems: string[] = [];
  const notes: string[] = [];
  const baseOps = mean(baseline.callers.map((c) => c.total));
  const rows: Row[] = [];
  for (const s of scenarios) {
    // Cross-check: every acquire that did not admit is a limit refusal in the state's counters.
    const refusedAcquires = s.callers.reduce((n, c) => n + c.acquires - (c.admitted ? 1 : 0), 0);
    if (refusedAcquires !== s.limitRefusals) problems.push(`${s.label}: ${refusedAcquires} refused acquires counted, state says ${s.limitRefusals}`);
    const waited = s.callers.filter((c) => c.admitted && c.waitedMs > 0);
    if (waited.length !== s.queuedCalls) problems.push(`${s.label}: ${waited.length} callers waited, state says ${s.queuedCalls}`);
    const admitted = s.callers.filter((c) => c.admitted);
    const refusedCallers = s.callers.filter((c) => !c.admitted);
    if (s.label.startsWith("(b)") && refusedCallers.length > 0) problems.push(`${s.label}: ${refusedCallers.length} callers refused; the queue timeout is too short`);
    if (s.label.startsWith("(c)") && admitted.length > 0) problems.push(`${s.label}: ${admitted.length} callers admitted`);
    if (s.label.startsWith("(a)") && waited.length > 0) problems.push(`${s.label}: ${waited.length} callers waited`);
    if (s.label.startsWith("(b)")) {
      // One row for the callers admitted at once, one for those that waited.
      const direct = admitted.filter((c) => c.waitedMs === 0);
      rows.push({ label: `${s.label}: admitted at once`, callers: direct });
      rows.push({ label: `${s.label}: admitted after waiting`, callers: waited });
      rows.push({ label: `${s.label}: all callers`, callers: s.callers });
    } else {
      rows.push({ label: s.label, callers: s.callers });
    }
  }
  const table = markdownTable(
    ["scenario", "callers", "admitted", "acquire ops/call", "record ops/call", "ops/call (mean)", "ops/call min–max", "× no-limit baseline", "wait s/call (mean, max)"],
    rows.map((r) => {
      const cs = r.callers;
      const totals = cs.map((c) => c.total);
      const waits = cs.map((c) => c.waitedMs / 1000);
      return [
        r.label,
        String(cs.length),
        String(cs.filter((c) => c.admitted).length),
        fixed(2)(mean(cs.map((c) => c.acquires))),
        fixed(2)(mean(cs.map((c) => c.records))),
        fixed(2)(mean(totals)),
        `${Math.min(...totals)}–${Math.max(...totals)}`,
        ratio(mean(totals) / baseOps),
        `${fixed(1)(mean(waits))}, ${fixed(1)(Math.max(...waits))}`,
      ];
    }),
  );
  notes.push(`Baseline measured in this run: ${fixed(2)(baseOps)} state operations per admitted call without a limit.`);
  for (const s of scenarios) {
    notes.push(`${s.label}: state counters limitRefusals ${s.limitRefusals}, queuedCalls ${s.queuedCalls}${s.holders > 0 ? ` (plus ${s.holders} slot holders, not counted)` : ""}.`);
  }
  return { table, notes, problems };
}

// ---------------------------------------------------------------------------------------------
// Part 2: wall clock of the pure core, acquire + record with and without a limit

interface CoreVariant {
  name: string;
  step: () => void;
}

const okOutcome: CallOutcome = { ok: true, durationMs: 1200 };

function coreVariant(name: string, policy: BreakerPolicy, holdOne: boolean): CoreVariant {
  let now = T0;
  let state = initialState(BREAKER, now);
  let permits = 0;
  if (holdOne) {
    // Another runner's call that holds a slot for the whole benchmark.
    const held = acquire(state, policy, now, "held", { expectedDurationMs: 1e12 });
    if (!held.decision.admitted) throw new Error(`${name}: holder refused`);
    state = held.state;
  }
  return {
    name,
    step: () => {
      const a = acquire(state, policy, now, `p${permits++}`, { expectedDurationMs: CALL_MS });
      if (!a.decision.admitted) throw new Error(`${name}: refused: ${a.decision.reason}`);
      now += 1;
      state = record(a.state, policy, now, a.decision.permit, okOutcome).state;
      now += 1;
    },
  };
}

function coreSection(): string {
  const variants = [
    coreVariant("no limit (baseline)", limited(null), false),
    coreVariant("limit 2, no other call in flight", limited(2), false),
    coreVariant("limit 2, other slot held by a long call", limited(2), true),
  ];
  const sizes = new Map<CoreVariant, number>();
  for (const v of variants) {
    // Warm-up in batches of 1000; the batch size comes from their median (a GC pause would skew the last).
    const until = Date.now() + WARMUP_MS;
    const warm: number[] = [];
    while (Date.now() < until) {
      const start = nowNs();
      for (let i = 0; i < 1000; i++) v.step();
      warm.push(elapsedNs(start) / 1000);
    }
    sizes.set(v, batchSize(median(warm), BATCH_MS, 1000));
  }
  const times = new Map<CoreVariant, number[]>(variants.map((v) => [v, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of rotate(variants, round)) {
      const n = sizes.get(v)!;
      const start = nowNs();
      for (let i = 0; i < n; i++) v.step();
      times.get(v)!.push(elapsedNs(start) / n);
    }
  }
  const base = times.get(variants[0]!)!;
  const rows = variants.map((v) => {
    const t = times.get(v)!;
    return [
      v.name,
      fixed(0)(median(t)),
      `${spread(t, fixed(0))} (${relativeSpread(t)})`,
      ratio(median(t.map((x, r) => x / base[r]!))),
      String(sizes.get(v)),
    ];
  });
  return markdownTable(["variant", "ns per acquire + record (median)", "spread p25–p75", "× no limit", "calls/round"], rows);
}

async function main(): Promise<void> {
  const started = Date.now();
  console.log(`# Concurrency limit: state operations per call, and the core's lease bookkeeping`);
  printSmokeNotice();
  console.log(`\n${machineLine()}.`);
  const ops = await opsSection();
  console.log(`\n## State operations per call (virtual time, seeded; counted, not timed)\n`);
  console.log(`Calls take ${CALL_MS / 1000} s of virtual time; "× no-limit baseline" divides by the baseline's ops per call from this run.\n`);
  console.log(ops.table);
  console.log();
  for (const n of ops.notes) console.log(`- ${n}`);
  console.log(`\n## Pure core: acquire + record with and without a limit\n`);
  console.log(`${ROUNDS} interleaved rounds, batches of ~${BATCH_MS} ms after ${WARMUP_MS} ms warm-up per variant; "× no limit" is the median of per-round ratios.\n`);
  console.log(coreSection());
  console.log(`\nRun took ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  if (ops.problems.length > 0) {
    console.error(`\nChecks failed, so the numbers above are not what they claim:\n${ops.problems.join("\n")}`);
    process.exitCode = 1;
  } else {
    console.log(`Checks: refused acquires = the state's limitRefusals, waiting callers = its queuedCalls, in every scenario.`);
  }
}

await main();
