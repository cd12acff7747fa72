/**
 * Cost per protected call of our breaker core against two in-memory circuit-breaker libraries
 * and a bare call of the same async function.
 *
 *   npx tsx bench/core-vs-libraries.ts
 *
 * Variants, all run in this process and interleaved round by round:
 *   bare        the async function called directly (the baseline)
 *   core        our pure core on a plain object: acquire + record, state replaced each time
 *   core+memory our core through MemoryStateStore: each op parses and re-serialises JSON state
 *   cockatiel   circuitBreaker(handleAll, { halfOpenAfter, breaker: new ConsecutiveBreaker(5) })
 *   opossum     new CircuitBreaker(fn).fire() with its default options, and again without
 *               rolling latency percentiles (see below)
 *
 * Scenarios: every call succeeds; every tenth call fails (10% failures, never 5 in a row and
 * never near 50%, so no breaker ever opens; this is checked at the end).
 */
import { CircuitState, ConsecutiveBreaker, circuitBreaker, handleAll } from "cockatiel";
import CircuitBreaker from "opossum";
import type { CallOutcome } from "../lib/core/outcome.js";
import { DEFAULT_POLICY } from "../lib/core/policy.js";
import { initialState, type BreakerState } from "../lib/core/state.js";
import { acquire, record } from "../lib/core/transitions.js";
import { MemoryStateStore } from "../lib/store/memory-store.js";
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
const BATCH_MS = runSize("BENCH_BATCH_MS", 25, 1);
/** At least one warm-up batch runs however short this is: it sizes the batches. */
const WARMUP_MS = SMOKE ? 1 : 300;

const failure = new Error("boom");
/** The protected work: an async no-op. One shared error object keeps stack capture out of the numbers. */
const succeed = async (): Promise<void> => {};
const fail = async (): Promise<void> => {
  throw failure;
};

interface Scenario {
  name: string;
  /** Whether call number `i` fails. */
  fails: (i: number) => boolean;
}

const SCENARIOS: Scenario[] = [
  { name: "all succeed", fails: () => false },
  { name: "10% fail", fails: (i) => i % 10 === 9 },
];

interface Variant {
  name: string;
  call: (i: number) => Promise<void>;
  /** Describes the breaker's state after the run; must say it never opened. */
  check: () => string | null;
}

function variants(scenario: Scenario): Variant[] {
  const fnFor = (i: number) => (scenario.fails(i) ? fail : succeed);
  const policy = DEFAULT_POLICY;

  const bare: Variant = {
    name: "bare async call",
    call: async (i) => {
      try {
        await fnFor(i)();
      } catch {
        // counted by nobody: this is the baseline
      }
    },
    check: () => null,
  };

  let state: BreakerState = initialState("bench", Date.now());
  let permits = 0;
  const core: Variant = {
    name: "our core, in-process",
    call: async (i) => {
      const start = Date.now();
      const a = acquire(state, policy, start, `p${permits++}`);
      state = a.state;
      if (!a.decision.admitted) throw new Error(`core refused a call: ${a.decision.reason}`);
      let outcome: CallOutcome;
      try {
        await fnFor(i)();
        outcome = { ok: true, durationMs: Date.now() - start };
      } catch (e) {
        outcome = { ok: false, durationMs: Date.now() - start, error: (e as Error).message };
      }
      state = record(state, policy, Date.now(), a.decision.permit, outcome).state;
    },
    check: () => (state.status === "closed" && state.counters.stateChanges === 0 ? null : `core is ${state.status}`),
  };

  const store = new MemoryStateStore();
  let storePermits = 0;
  const coreMemory: Variant = {
    name: "our core via MemoryStateStore",
    call: async (i) => {
      const start = Date.now();
      const a = await store.apply({ op: "acquire", breaker: "bench", policy, permitId: `p${storePermits++}`, expectedDurationMs: 0 });
      const decision = a.decision;
      if (!decision?.admitted) throw new Error(`memory store refused a call`);
      let outcome: CallOutcome;
      try {
        await fnFor(i)();
        outcome = { ok: true, durationMs: Date.now() - start };
      } catch (e) {
        outcome = { ok: false, durationMs: Date.now() - start, error: (e as Error).message };
      }
      await store.apply({ op: "record", breaker: "bench", policy, permit: decision.permit, outcome });
    },
    check: () => {
      const text = store.texts.get("bench");
      const s = text === undefined ? null : (JSON.parse(text) as BreakerState);
      return s !== null && s.status === "closed" && s.counters.stateChanges === 0 ? null : `memory store is ${s?.status}`;
    },
  };

  const cb = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
  const cockatiel: Variant = {
    name: "cockatiel 3 ConsecutiveBreaker(5)",
    call: async (i) => {
      try {
        await cb.execute(fnFor(i));
      } catch {
        // the failure is the breaker's to count
      }
    },
    check: () => (cb.state === CircuitState.Closed ? null : `cockatiel is ${CircuitState[cb.state]}`),
  };

  // Opossum wraps one action; the scenario's failures come through an argument.
  const wrapped = async (i: number): Promise<void> => fnFor(i)();
  const ob = new CircuitBreaker(wrapped);
  let opened = false;
  ob.on("open", () => {
    opened = true;
  });
  const opossum: Variant = {
    name: "opossum 9 (defaults)",
    call: async (i) => {
      try {
        await ob.fire(i);
      } catch {
        // the failure is the breaker's to count
      }
    },
    check: () => {
      ob.shutdown();
      return opened ? "opossum opened" : null;
    },
  };

  // Opossum's failure path reads `stats`, which by default concatenates and sorts every latency
  // in its 10 s rolling window, so its cost per failure grows with the call rate. This row shows
  // it without latency percentiles; it is not the baseline of any ratio.
  const ob2 = new CircuitBreaker(wrapped, { rollingPercentilesEnabled: false });
  let opened2 = false;
  ob2.on("open", () => {
    opened2 = true;
  });
  const opossumLean: Variant = {
    name: "opossum 9 (rollingPercentilesEnabled: false)",
    call: async (i) => {
      try {
        await ob2.fire(i);
      } catch {
        // the failure is the breaker's to count
      }
    },
    check: () => {
      ob2.shutdown();
      return opened2 ? "opossum (no percentiles) opened" : null;
    },
  };

  return [bare, core, coreMemory, cockatiel, opossum, opossumLean];
}

async function runBatch(variant: Variant, n: number, offset: number): Promise<number> {
  const start = nowNs();
  for (let i = 0; i < n; i++) await variant.call(offset + i);
  return elapsedNs(start) / n;
}

async function runScenario(scenario: Scenario): Promise<{ table: string; problems: string[] }> {
  const vs = variants(scenario);
  const calls = new Map<Variant, number>(vs.map((v) => [v, 0]));
  const sizes = new Map<Variant, number>();
  // Warm-up: let the JIT settle, then size each variant's batch to about BATCH_MS.
  for (const v of vs) {
    let perCall = 0;
    const until = Date.now() + WARMUP_MS;
    const n = 1000;
    while (Date.now() < until) {
      perCall = await runBatch(v, n, calls.get(v)!);
      calls.set(v, calls.get(v)! + n);
    }
    // Batches are multiples of 10 so every batch has the same failure mix.
    sizes.set(v, Math.ceil(batchSize(perCall, BATCH_MS, 1000) / 10) * 10);
  }
  const perCall = new Map<Variant, number[]>(vs.map((v) => [v, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of rotate(vs, round)) {
      const n = sizes.get(v)!;
      perCall.get(v)!.push(await runBatch(v, n, calls.get(v)!));
      calls.set(v, calls.get(v)! + n);
    }
  }
  const bare = perCall.get(vs[0]!)!;
  const cockatiel = perCall.get(vs[3]!)!;
  const perRoundRatio = (xs: number[], base: number[]) => median(xs.map((x, r) => x / base[r]!));
  const rows = vs.map((v) => {
    const xs = perCall.get(v)!;
    return [
      v.name,
      fixed(0)(median(xs)),
      `${spread(xs, fixed(0))} (${relativeSpread(xs)})`,
      ratio(perRoundRatio(xs, bare)),
      ratio(perRoundRatio(xs, cockatiel)),
      String(sizes.get(v)),
    ];
  });
  const problems = vs.flatMap((v) => {
    const p = v.check();
    return p === null ? [] : [`${scenario.name}: ${p}`];
  });
  const table = markdownTable(["variant", "ns/call (median)", "spread p25–p75", "× bare", "× cockatiel", "calls/round"], rows);
  return { table, problems };
}

async function main(): Promise<void> {
  console.log(`# Core vs libraries: cost per protected call`);
  printSmokeNotice();
  console.log(`\n${machineLine()}; ${ROUNDS} interleaved rounds per scenario, batches of ~${BATCH_MS} ms, after ${WARMUP_MS} ms warm-up per variant.`);
  console.log(`Ratios are medians of per-round ratios against the baseline measured in the same round.\n`);
  const problems: string[] = [];
  for (const scenario of SCENARIOS) {
    const r = await runScenario(scenario);
    console.log(`## ${scenario.name}\n\n${r.table}\n`);
    problems.push(...r.problems);
  }
  if (problems.length > 0) {
    console.error(`A breaker opened, so the numbers above are not comparable:\n${problems.join("\n")}`);
    process.exitCode = 1;
  } else {
    console.log(`Check: every breaker stayed closed in both scenarios.`);
  }
}

await main();
