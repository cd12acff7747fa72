/**
 * The cost of `status` (and `metrics`) with 1, 100 and 1000 breakers in each store.
 *
 *   npx tsx bench/status-cost.ts
 *
 * One "status" here is what the state functions do per call, minus the Dagger call around
 * them: one `read` of every breaker, then the status table (`statusTable`), the status JSON
 * (`JSON.stringify(statusReport(...), null, 2)`, as `status --format json` prints it) and the
 * metrics (`prometheusMetrics`), all from that one read and its `now`. Stores:
 *   memory      `MemoryStateStore` (fake clock);
 *   directory   `handleRequest(dir, { op: "read", breakers: null }, now)` of
 *               lib/store/directory/state-directory.ts on a temporary directory: what the state
 *               program runs inside the cache-volume container, minus the container and process;
 *   redis       `RedisStateStore` on a throwaway loopback redis-server started as the tests do
 *               (tests/store/redis-server.ts); skipped with a note when redis-server is missing.
 * Each store's floor is a `read` of its 1-breaker instance (no rendering), measured in the same
 * rounds; "× floor" is the median of per-round ratios to it.
 *
 * The breakers' states are built by driving the core (`acquire` / `record`) on a fake clock
 * with seeded draws: most closed with counters and 1–6 open → half-open → closed cycles in
 * their history, some on a failure-rate policy, some with a concurrency limit and a call in
 * flight, some with a neutral failure, 1 in 20 open, 1 in 50 half-open with a probe in flight.
 * The same texts go into every store (Redis's shifted to the server's clock, which is the one
 * its reads use); the sets of 1 and 100 are the first breakers of the 1000.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import type { CallOutcome } from "../lib/core/outcome.js";
import { DEFAULT_POLICY, type BreakerPolicy } from "../lib/core/policy.js";
import { serializeState } from "../lib/core/serialize.js";
import { initialState, type BreakerState, type Permit } from "../lib/core/state.js";
import { acquire, record } from "../lib/core/transitions.js";
import { prometheusMetrics } from "../lib/report/metrics.js";
import { statusReport, statusTable } from "../lib/report/status-report.js";
import { handleRequest } from "../lib/store/directory/state-directory.js";
import { MemoryStateStore } from "../lib/store/memory-store.js";
import { RedisKeys } from "../lib/store/redis/keys.js";
import { RedisStateStore } from "../lib/store/redis/index.js";
import type { StateResponse } from "../lib/store/request.js";
import { seededRandom } from "../lib/workflow/backoff.js";
import { REDIS_SERVER, RedisServer } from "../tests/store/redis-server.js";
import {
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
const BATCH_MS = runSize("BENCH_BATCH_MS", 40, 1);
/** At least one call of each variant runs however short this is. */
const WARMUP_MS = SMOKE ? 1 : 250;
const SIZES = [1, 100, 1000];
const T0 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;
/** Every breaker's last phase ends before base + SPAN; reads are at base + SPAN. */
const SPAN = 30 * DAY;

// ---------------------------------------------------------------------------------------------
// Realistic states, built by driving the core

const FAILURE_RATE: BreakerPolicy = { ...DEFAULT_POLICY, trip: { kind: "failure-rate", rate: 0.5, windowSize: 20, minimumCalls: 10 } };
/** Open breakers wait long enough to still be open when read, however long the run takes. */
const LONG_OPEN: BreakerPolicy = { ...DEFAULT_POLICY, resetTimeoutMs: 2 * 3_600_000, maxResetTimeoutMs: 4 * 3_600_000 };
const LIMITED: BreakerPolicy = { ...DEFAULT_POLICY, maxConcurrentCalls: 2 };
const IGNORING: BreakerPolicy = { ...DEFAULT_POLICY, ignoredExitCodes: [75] };
const LONG_CALL_MS = 2 * 3_600_000;

const ERRORS = [
  "step deploy exited 1: kubectl rollout status timed out",
  "step smoke-test exited 2: GET https://api.example.com/health returned 503",
  "step migrate exited 1: connection refused (db-primary:5432)",
  "step publish exited 1: registry returned 429 Too Many Requests",
];

class Driver {
  private permits = 0;

  constructor(
    public state: BreakerState,
    public policy: BreakerPolicy,
    public now: number,
    private readonly random: () => number,
  ) {}

  admit(expectedDurationMs = 0): Permit {
    const a = acquire(this.state, this.policy, this.now, `${this.state.name}-${this.permits++}`, { expectedDurationMs, random: this.random() });
    this.state = a.state;
    if (!a.decision.admitted) throw new Error(`${this.state.name}: refused while seeding: ${a.decision.reason}`);
    return a.decision.permit;
  }

  call(outcome: CallOutcome): void {
    const permit = this.admit(outcome.durationMs);
    this.now += outcome.durationMs;
    this.state = record(this.state, this.policy, this.now, permit, outcome, this.random()).state;
    this.now += 1000 + Math.floor(this.random() * 60_000);
  }

  succeed(): void {
    this.call({ ok: true, durationMs: 20_000 + Math.floor(this.random() * 100_000) });
  }

  fail(): void {
    const error = ERRORS[Math.floor(this.random() * ERRORS.length)]!;
    this.call({ ok: false, durationMs: 5_000 + Math.floor(this.random() * 60_000), exitCode: 1, error });
  }

  /** Fails until the breaker opens. */
  trip(): void {
    while (this.state.status === "closed") this.fail();
  }

  /** closed → open → half-open (time) → closed (a probe succeeds). */
  cycle(): void {
    this.trip();
    this.now = (this.state.openUntil ?? this.now) + 1000 + Math.floor(this.random() * 600_000);
    this.succeed();
    if (this.state.status !== "closed") throw new Error(`${this.state.name}: cycle ended ${this.state.status}`);
  }

  /** Mostly successes, a failure now and then, never enough in a row to trip. */
  traffic(calls: number): void {
    for (let i = 0; i < calls; i++) {
      if (this.random() < 0.06 && this.state.consecutiveFailures < 2 && this.state.window.filter(Boolean).length < 4) this.fail();
      else this.succeed();
    }
  }
}

function breakerName(i: number): string {
  return `service-${String(i).padStart(4, "0")}`;
}

/** Breaker `i`, its timeline starting near `base` and ending before `base + SPAN`. */
function buildState(i: number, base: number): BreakerState {
  const random = seededRandom(10_000 + i);
  const policy = i % 20 === 7 || i % 50 === 23 ? LONG_OPEN : i % 10 === 3 ? FAILURE_RATE : i % 10 === 5 ? LIMITED : i % 25 === 11 ? IGNORING : DEFAULT_POLICY;
  const start = base + i * 60_000;
  const d = new Driver(initialState(breakerName(i), start), policy, start, random);
  // Weeks of use: a few outages, each an open → half-open → closed cycle, amid ordinary traffic.
  const cycles = 1 + Math.floor(random() * 6);
  for (let c = 0; c < cycles; c++) {
    d.traffic(10 + Math.floor(random() * 40));
    d.cycle();
  }
  d.traffic(20 + Math.floor(random() * 150));
  // The last hours before the read (longer for the breaker that must open and wait to go half-open).
  const lead = i % 50 === 23 ? 4 * 3_600_000 : 3_600_000;
  const last = base + SPAN - lead + Math.floor(random() * 1_800_000);
  if (d.now > last) throw new Error(`${breakerName(i)}: timeline too long for the span`);
  d.now = last;
  d.traffic(3 + Math.floor(random() * 8));
  if (policy === IGNORING) d.call({ ok: false, durationMs: 12_000, exitCode: 75, error: "step deploy exited 75: try again later" });
  if (policy === LIMITED) d.admit(LONG_CALL_MS); // a call in flight, holding a slot
  if (i % 20 === 7) d.trip();
  if (i % 50 === 23) {
    d.trip();
    d.now = (d.state.openUntil ?? d.now) + 1000;
    d.admit(LONG_CALL_MS); // the probe, still running
    if (d.state.status !== "half-open") throw new Error(`${breakerName(i)}: not half-open`);
  }
  if (d.now >= base + SPAN) throw new Error(`${breakerName(i)}: timeline ends after the read`);
  return d.state;
}

interface StateSet {
  names: string[];
  texts: string[];
  statuses: Map<string, number>;
  bytes: number;
}

function buildStates(count: number, base: number): StateSet {
  const names: string[] = [];
  const texts: string[] = [];
  const statuses = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < count; i++) {
    const s = buildState(i, base);
    const text = serializeState(s);
    names.push(s.name);
    texts.push(text);
    total += Buffer.byteLength(text);
    const label = s.leases.length > 0 ? `${s.status} with a call in flight` : s.status;
    statuses.set(label, (statuses.get(label) ?? 0) + 1);
  }
  return { names, texts, statuses, bytes: total };
}

function slice(set: StateSet, n: number): StateSet {
  const texts = set.texts.slice(0, n);
  return { names: set.names.slice(0, n), texts, statuses: new Map(), bytes: texts.reduce((a, t) => a + Buffer.byteLength(t), 0) };
}

// ---------------------------------------------------------------------------------------------
// What is timed

/** Reads every breaker of one store instance. */
type Reader = () => Promise<StateResponse>;

interface Variant {
  store: string;
  label: string;
  breakers: number;
  bytes: number;
  /** Whether the status table, JSON and metrics are rendered after the read (false: the floor). */
  render: boolean;
  read: Reader;
}

let sink = 0;

/** One status; returns the ns spent in the read. */
async function once(v: Variant): Promise<number> {
  const start = nowNs();
  const r = await v.read();
  const readNs = elapsedNs(start);
  if (r.states.length !== v.breakers || r.problems.length !== 0) {
    throw new Error(`${v.store} ${v.label}: read ${r.states.length} states and ${r.problems.length} problems, wanted ${v.breakers}`);
  }
  if (v.render) {
    const table = statusTable(r.states, r.problems, r.now);
    const json = JSON.stringify(statusReport(r.states, r.problems, r.now), null, 2);
    const metrics = prometheusMetrics(r.states, r.now);
    sink += table.length + json.length + metrics.length;
  } else {
    sink += r.states.length;
  }
  return readNs;
}

interface Sample {
  totalNs: number;
  readNs: number;
}

async function batch(v: Variant, n: number): Promise<Sample> {
  let readNs = 0;
  const start = nowNs();
  for (let i = 0; i < n; i++) readNs += await once(v);
  return { totalNs: elapsedNs(start) / n, readNs: readNs / n };
}

async function outputSizes(v: Variant): Promise<{ table: number; json: number; metrics: number }> {
  const r = await v.read();
  return {
    table: Buffer.byteLength(statusTable(r.states, r.problems, r.now)),
    json: Buffer.byteLength(JSON.stringify(statusReport(r.states, r.problems, r.now), null, 2)),
    metrics: Buffer.byteLength(prometheusMetrics(r.states, r.now)),
  };
}

// ---------------------------------------------------------------------------------------------
// The stores

interface StoreSetup {
  name: string;
  variants: Variant[];
  close: () => Promise<void>;
}

function variantsFor(store: string, sets: StateSet[], readerFor: (n: number) => Reader): Variant[] {
  const one = sets[0]!;
  return [
    { store, label: "floor: read of 1 breaker", breakers: 1, bytes: one.bytes, render: false, read: readerFor(1) },
    ...sets.map((s) => ({
      store,
      label: `${s.names.length} breaker${s.names.length === 1 ? "" : "s"}`,
      breakers: s.names.length,
      bytes: s.bytes,
      render: true,
      read: readerFor(s.names.length),
    })),
  ];
}

function memorySetup(sets: StateSet[]): StoreSetup {
  const stores = new Map<number, MemoryStateStore>();
  for (const s of sets) {
    const store = new MemoryStateStore(() => T0 + SPAN);
    s.names.forEach((name, i) => store.texts.set(name, s.texts[i]!));
    stores.set(s.names.length, store);
  }
  return {
    name: "memory",
    variants: variantsFor("memory", sets, (n) => () => stores.get(n)!.apply({ op: "read", breakers: null })),
    close: async () => {},
  };
}

function directorySetup(sets: StateSet[]): StoreSetup {
  const root = mkdtempSync(join(tmpdir(), "cb-bench-status-"));
  const dirs = new Map<number, string>();
  for (const s of sets) {
    const dir = join(root, `n${s.names.length}`);
    mkdirSync(join(dir, "breakers"), { recursive: true });
    s.names.forEach((name, i) => writeFileSync(join(dir, "breakers", `${name}.json`), s.texts[i]!));
    dirs.set(s.names.length, dir);
  }
  return {
    name: "directory",
    variants: variantsFor("directory", sets, (n) => async () => handleRequest(dirs.get(n)!, { op: "read", breakers: null }, T0 + SPAN)),
    close: async () => rmSync(root, { recursive: true, force: true }),
  };
}

async function redisSetup(): Promise<StoreSetup> {
  const server = await RedisServer.start();
  const client = new Redis({ host: "127.0.0.1", port: server.port, maxRetriesPerRequest: 1 });
  try {
    // The store reads with the server's clock, so the states are built to end just before it.
    const [seconds, micros] = await client.time();
    const serverNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const all = buildStates(Math.max(...SIZES), serverNow - SPAN);
    const sets = SIZES.map((n) => slice(all, n));
    const stores = new Map<number, RedisStateStore>();
    for (const s of sets) {
      const prefix = `cb-bench-status-${s.names.length}:`;
      const keys = new RedisKeys(prefix);
      // What the store's compare-and-set script does for a first write without a TTL: SET + SADD.
      const pipeline = client.pipeline();
      s.names.forEach((name, i) => pipeline.set(keys.breaker(name), s.texts[i]!));
      pipeline.sadd(keys.names, ...s.names);
      const results = await pipeline.exec();
      const failed = (results ?? []).find(([error]) => error !== null);
      if (results === null || failed !== undefined) throw new Error(`loading Redis failed: ${String(failed?.[0] ?? "no reply")}`);
      stores.set(s.names.length, new RedisStateStore({ host: "127.0.0.1", port: server.port, prefix, timeoutMs: 10_000 }));
    }
    return {
      name: "redis",
      variants: variantsFor("redis", sets, (n) => () => stores.get(n)!.apply({ op: "read", breakers: null })),
      close: async () => {
        for (const s of stores.values()) await s.close();
        client.disconnect();
        await server.stop();
      },
    };
  } catch (e) {
    client.disconnect();
    await server.stop();
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  const all = buildStates(Math.max(...SIZES), T0);
  const sets = SIZES.map((n) => slice(all, n));
  const setups: StoreSetup[] = [memorySetup(sets), directorySetup(sets)];
  const notes: string[] = [];
  if (existsSync(REDIS_SERVER)) setups.push(await redisSetup());
  else notes.push(`Redis skipped: ${REDIS_SERVER} is not installed (apt-get install redis-server).`);
  try {
    const variants = setups.flatMap((s) => s.variants);
    const sizes = new Map<Variant, number>();
    for (const v of variants) {
      const until = Date.now() + WARMUP_MS;
      while (Date.now() < until) await batch(v, 1);
    }
    // Batch sizes from the median of 5 single calls after every warm-up (a GC pause in one would skew it).
    for (const v of variants) {
      const single: number[] = [];
      for (let i = 0; i < 5; i++) single.push((await batch(v, 1)).totalNs);
      sizes.set(v, Math.max(1, Math.min(10_000, Math.ceil((BATCH_MS * 1e6) / Math.max(median(single), 1)))));
    }
    const samples = new Map<Variant, Sample[]>(variants.map((v) => [v, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const v of rotate(variants, round)) samples.get(v)!.push(await batch(v, sizes.get(v)!));
    }
    const outputs = new Map<number, { table: number; json: number; metrics: number }>();
    for (const v of setups[0]!.variants) if (v.render) outputs.set(v.breakers, await outputSizes(v));

    console.log(`# Cost of status with 1, 100 and 1000 breakers, per store`);
    printSmokeNotice();
    console.log(`\n${machineLine()}; ${ROUNDS} interleaved rounds, batches of ~${BATCH_MS} ms after ${WARMUP_MS} ms warm-up per variant.`);
    console.log(`One status = read every breaker + status table + status JSON + metrics, from one read.`);
    console.log(`"× floor" is the median of per-round ratios to the same store's read of 1 breaker (no rendering), in the same round;`);
    console.log(`"× 1-breaker status" the same against the same store's full status of 1 breaker.\n`);
    const rows = variants.map((v) => {
      const s = samples.get(v)!;
      const own = setups.find((x) => x.name === v.store)!.variants;
      const floor = samples.get(own[0]!)!;
      const oneStatus = samples.get(own[1]!)!;
      const total = s.map((x) => x.totalNs);
      const read = s.map((x) => x.readNs);
      const render = s.map((x) => x.totalNs - x.readNs);
      return [
        v.store,
        v.label,
        bytes(v.bytes),
        fixed(2)(median(total) / 1e6),
        `${spread(total, (n) => (n / 1e6).toFixed(2))} (${relativeSpread(total)})`,
        fixed(2)(median(read) / 1e6),
        v.render ? fixed(2)(median(render) / 1e6) : "–",
        fixed(1)(median(total) / 1000 / v.breakers),
        ratio(median(total.map((t, r) => t / floor[r]!.totalNs))),
        v.render ? ratio(median(total.map((t, r) => t / oneStatus[r]!.totalNs))) : "–",
        String(sizes.get(v)),
      ];
    });
    console.log(
      markdownTable(
        ["store", "breakers", "state bytes", "ms per status (median)", "spread p25–p75", "of which read ms", "render ms", "µs per breaker", "× floor", "× 1-breaker status", "calls/round"],
        rows,
        2,
      ),
    );
    console.log();
    const mix = [...all.statuses].map(([k, n]) => `${n} ${k}`).join(", ");
    console.log(`- The 1000 breakers: ${mix}; ${bytes(all.bytes)} of state.`);
    for (const [n, o] of outputs) {
      console.log(`- Output for ${n} breaker(s): table ${bytes(o.table)}, JSON ${bytes(o.json)}, metrics ${bytes(o.metrics)}.`);
    }
    for (const n of notes) console.log(`- ${n}`);
    console.log(`\nRun took ${((Date.now() - started) / 1000).toFixed(1)} s (sink ${sink % 10}).`);
  } finally {
    for (const s of setups) await s.close();
  }
}

await main();
