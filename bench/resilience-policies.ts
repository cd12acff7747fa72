/**
 * What the fleet policies of issue 18 cost: time-based trip windows, the rate limit, the retry
 * budget and fallbacks.
 *
 *   npx tsx bench/resilience-policies.ts
 *   BENCH_BASELINE=<rev> npx tsx bench/resilience-policies.ts   # another baseline core (default 7c4a1d2)
 *
 * Part 1, state operations per call (counted, not timed; deterministic). `executeWorkflow`
 * (lib/service/execute-workflow.ts) with workflows built by `parseConfig` + `resolveWorkflow`,
 * a fake step executor (named steps fail their first n runs), a fake clock and sleep, against a
 * `MemoryStateStore` behind a wrapper that logs every request's op and breaker. Each scenario
 * starts from an empty store; calls made first to open a breaker or fill a limit are not counted.
 * The expected sequence of requests is part of each scenario and any difference fails the run;
 * with every feature off an admitted call must be exactly 2 operations and a refused one 1.
 *
 * Part 2, state bytes (`serializeState`) after 10,000 outcomes of the pure core (acquire + record,
 * every tenth call failing, breaker kept closed) on a simulated clock at one call per 10 ms, per
 * second and per minute: no window, count windows of 100 and 1000 outcomes, time windows of 60 s,
 * 600 s and 3600 s, and every bucketed feature at once. Checks after every outcome that no bucket
 * list holds more than BUCKETS_PER_WINDOW + 2 buckets.
 *
 * Part 3, wall clock of the pure core: acquire + record on a closed breaker whose state holds a
 * full history (20 transitions), every tenth call failing, simulated clock at 10 ms per call.
 * Today's core (the work tree's lib/core) with every feature off is the baseline; the core of the
 * baseline revision (7c4a1d2, before issue 18) runs the same in the same rounds, and today's core
 * with each feature on. Both cores are esbuild bundles made the same way (bench/lib/core-bundle.ts),
 * each variant its own module instance. Interleaved rounds after a warm-up; ratios are medians of
 * per-round ratios.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseConfig } from "../lib/config/parse-config.js";
import { resolveWorkflow, type ResolvedStep, type ResolvedWorkflow } from "../lib/config/resolve-workflow.js";
import type { CallOutcome } from "../lib/core/outcome.js";
import { DEFAULT_POLICY, type BreakerPolicy } from "../lib/core/policy.js";
import { serializeState } from "../lib/core/serialize.js";
import { initialState, type BreakerState } from "../lib/core/state.js";
import { BUCKETS_PER_WINDOW } from "../lib/core/time-buckets.js";
import { acquire, record, spendRetry } from "../lib/core/transitions.js";
import { BreakerOpenError, RateLimitError } from "../lib/protection/errors.js";
import { executeWorkflow, type ExecuteOptions, type FallbackPlan, type WorkflowOutcome } from "../lib/service/execute-workflow.js";
import { MemoryStateStore } from "../lib/store/memory-store.js";
import type { StateRequest, StateResponse } from "../lib/store/request.js";
import type { StateStore } from "../lib/store/state-store.js";
import { seededRandom } from "../lib/workflow/backoff.js";
import type { StepExecutor, StepRun } from "../lib/workflow/run-workflow.js";
import { bundleCore, coreSourcesAt, loadCore, type CoreModule } from "./lib/core-bundle.js";
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

const ROUNDS = runSize("BENCH_ROUNDS", 21, 1);
const BATCH_MS = runSize("BENCH_BATCH_MS", 20, 1);
/** At least one warm-up batch runs however short this is: it sizes the batches. */
const WARMUP_MS = SMOKE ? 1 : 300;
/** Outcomes before the state is measured in part 2; cheap, so smoke mode keeps them all. */
const OUTCOMES = 10_000;
const BASELINE = process.env.BENCH_BASELINE || "7c4a1d2";
const T0 = Date.UTC(2026, 0, 1);
const repo = fileURLToPath(new URL("..", import.meta.url));
/** What the buckets may hold per window (lib/core/time-buckets.ts). */
const MAX_BUCKETS = BUCKETS_PER_WINDOW + 2;

const okOutcome: CallOutcome = { ok: true, durationMs: 1200 };
const failOutcome: CallOutcome = { ok: false, durationMs: 900, exitCode: 1, error: "step deploy exited 1" };
/** Every tenth call fails: never 5 in a row, never near 50%, so no breaker here opens. */
const fails = (i: number): boolean => i % 10 === 9;

// ---------------------------------------------------------------------------------------------
// Part 1: state operations per call through executeWorkflow

const STEP = (name: string, extra = "") => `[{ name: ${name}, image: alpine, command: [${name}]${extra} }]`;
const BUDGET = "retry_budget: { ratio: 0, min_retries_per_minute: 100, window_seconds: 60 }";
const CONFIG = parseConfig(
  `
circuit_breaker: { failure_threshold: 1, reset_timeout: 3600 }
workflows:
  plain:
    steps: ${STEP("deploy")}
  plain-retry3:
    retry: { max_retries: 3, backoff_factor: 0 }
    steps: ${STEP("deploy")}
  time-rate:
    circuit_breaker: { trip_policy: failure_rate, failure_rate_threshold: 0.5, window_seconds: 60, minimum_calls: 1 }
    steps: ${STEP("deploy")}
  time-count:
    circuit_breaker: { trip_policy: failure_count, failure_threshold: 1, window_seconds: 60 }
    steps: ${STEP("deploy")}
  rate:
    circuit_breaker: { rate_limit: { calls: 1, period_seconds: 3600 } }
    steps: ${STEP("deploy")}
  rate-queued:
    circuit_breaker: { rate_limit: { calls: 1, period_seconds: 60 }, queue_timeout: 300 }
    steps: ${STEP("deploy")}
  budget-retry1:
    retry: { max_retries: 1, backoff_factor: 0 }
    circuit_breaker: { ${BUDGET} }
    steps: ${STEP("deploy")}
  budget-retry3:
    retry: { max_retries: 3, backoff_factor: 0 }
    circuit_breaker: { ${BUDGET} }
    steps: ${STEP("deploy")}
  budget-step-retry2:
    circuit_breaker: { ${BUDGET} }
    steps: ${STEP("deploy", ", retries: 2")}
  budget-spent:
    retry: { max_retries: 3, backoff_factor: 0 }
    circuit_breaker: { retry_budget: { ratio: 0, min_retries_per_minute: 0, window_seconds: 60 } }
    steps: ${STEP("deploy")}
  guarded:
    fallback: cache
    steps: ${STEP("deploy")}
  guarded-rate:
    fallback: cache
    circuit_breaker: { rate_limit: { calls: 1, period_seconds: 3600 } }
    steps: ${STEP("deploy")}
  guarded-on-failure:
    fallback: cache
    fallback_on_failure: true
    steps: ${STEP("deploy")}
  cache:
    steps: ${STEP("cached")}
`,
  "bench/resilience-policies.ts",
);

const resolved = (name: string): ResolvedWorkflow => resolveWorkflow(CONFIG, name);

/** Runs steps at once; the step named `failing` fails its first `failures` runs (503 in its stderr), every other run succeeds. */
class Steps implements StepExecutor {
  runs = 0;
  constructor(
    private failures: number,
    private readonly failing = "deploy",
  ) {}
  async run(step: ResolvedStep): Promise<StepRun> {
    this.runs += 1;
    const failed = step.name === this.failing && this.failures > 0;
    if (failed) this.failures -= 1;
    return { exitCode: failed ? 1 : 0, stdout: failed ? "" : `${step.name} done\n`, stderr: failed ? "503 from the service" : "", durationMs: 1, timedOut: false };
  }
}

/** Passes every request to the memory store and logs it as "op breaker". */
class CountingStore implements StateStore {
  readonly description = "counting memory store";
  log: string[] = [];
  constructor(private readonly inner: StateStore) {}
  apply(request: StateRequest): Promise<StateResponse> {
    this.log.push("breaker" in request ? `${request.op} ${request.breaker}` : request.op);
    return this.inner.apply(request);
  }
}

interface OpsScenario {
  feature: string;
  call: string;
  workflow: string;
  /** Calls made first on the same store, not counted: to open the breaker or use up the rate limit. */
  before?: { failing: boolean; times: number };
  /** Runs of the step "deploy" that fail in the counted call. */
  failures: number;
  fallback?: boolean;
  /** The requests the counted call must make, in order. */
  expected: string[];
  /** What the counted call must have done, or null when it did. */
  check: (o: WorkflowOutcome) => string | null;
}

const ran = (o: WorkflowOutcome) => (o.rejection === null && o.result?.ok === true ? null : `not admitted and run: ${o.rejection?.message ?? o.result?.error}`);
const refused = (o: WorkflowOutcome) => (o.rejection instanceof BreakerOpenError && o.result === null ? null : `not refused (result ${JSON.stringify(o.result?.ok)})`);
const rateRefused = (o: WorkflowOutcome) => (o.rejection instanceof RateLimitError ? null : `not refused by the rate limit: ${o.rejection?.message ?? "admitted"}`);
const attempts = (n: number) => (o: WorkflowOutcome) => ran(o) ?? (o.result?.attempts === n ? null : `${o.result?.attempts} workflow attempts, expected ${n}`);
const fellBack = (o: WorkflowOutcome) => (o.fallback?.outcome.result?.ok === true ? null : `fallback did not run and succeed: ${JSON.stringify(o.fallback?.reason ?? null)}`);
const both = (...checks: ((o: WorkflowOutcome) => string | null)[]) => (o: WorkflowOutcome) => {
  for (const c of checks) {
    const wrong = c(o);
    if (wrong !== null) return wrong;
  }
  return null;
};
const pair = (breaker: string) => [`acquire ${breaker}`, `record ${breaker}`];

const OPS_SCENARIOS: OpsScenario[] = [
  { feature: "all off", call: "admitted", workflow: "plain", failures: 0, expected: pair("plain"), check: ran },
  { feature: "all off", call: "refused (open)", workflow: "plain", before: { failing: true, times: 1 }, failures: 0, expected: ["acquire plain"], check: refused },
  { feature: "all off, retry: max_retries 3", call: "admitted, 3 retries", workflow: "plain-retry3", failures: 3, expected: pair("plain-retry3"), check: attempts(4) },
  { feature: "time window: failure_rate over 60 s", call: "admitted", workflow: "time-rate", failures: 0, expected: pair("time-rate"), check: ran },
  { feature: "time window: failure_rate over 60 s", call: "refused (open)", workflow: "time-rate", before: { failing: true, times: 1 }, failures: 0, expected: ["acquire time-rate"], check: refused },
  { feature: "time window: failure_count within 60 s", call: "admitted", workflow: "time-count", failures: 0, expected: pair("time-count"), check: ran },
  { feature: "rate limit 1 per 3600 s", call: "admitted", workflow: "rate", failures: 0, expected: pair("rate"), check: ran },
  { feature: "rate limit 1 per 3600 s", call: "refused (limit used)", workflow: "rate", before: { failing: false, times: 1 }, failures: 0, expected: ["acquire rate"], check: rateRefused },
  {
    feature: "rate limit 1 per 60 s, queue_timeout 300",
    call: "admitted after waiting for the slot",
    workflow: "rate-queued",
    before: { failing: false, times: 1 },
    failures: 0,
    expected: ["acquire rate-queued", ...pair("rate-queued")],
    check: (o) => ran(o) ?? (o.queueWaitMs > 0 ? null : "did not wait"),
  },
  { feature: "retry budget, max_retries 3", call: "admitted, no retry", workflow: "budget-retry3", failures: 0, expected: pair("budget-retry3"), check: attempts(1) },
  {
    feature: "retry budget, max_retries 1",
    call: "admitted, 1 retry (r = 1)",
    workflow: "budget-retry1",
    failures: 1,
    expected: ["acquire budget-retry1", "retry budget-retry1", "record budget-retry1"],
    check: attempts(2),
  },
  {
    feature: "retry budget, max_retries 3",
    call: "admitted, 3 retries (r = 3)",
    workflow: "budget-retry3",
    failures: 3,
    expected: ["acquire budget-retry3", ...Array<string>(3).fill("retry budget-retry3"), "record budget-retry3"],
    check: attempts(4),
  },
  {
    feature: "retry budget, step retries 2",
    call: "admitted, 2 step retries (r = 2)",
    workflow: "budget-step-retry2",
    failures: 2,
    expected: ["acquire budget-step-retry2", "retry budget-step-retry2", "retry budget-step-retry2", "record budget-step-retry2"],
    check: (o) => ran(o) ?? (o.result?.steps[0]?.attempts === 3 ? null : `${o.result?.steps[0]?.attempts} step attempts, expected 3`),
  },
  {
    feature: "retry budget spent (0 allowed)",
    call: "failed, its retry refused",
    workflow: "budget-spent",
    failures: 4,
    expected: ["acquire budget-spent", "retry budget-spent", "record budget-spent"],
    check: (o) => (o.result?.ok === false && o.result.retryRefused !== null ? null : "the retry was not refused"),
  },
  { feature: "fallback", call: "admitted (fallback not run)", workflow: "guarded", fallback: true, failures: 0, expected: pair("guarded"), check: both(ran, (o) => (o.fallback === null ? null : "fallback ran")) },
  {
    feature: "fallback",
    call: "refused (open), fallback run",
    workflow: "guarded",
    before: { failing: true, times: 1 },
    fallback: true,
    failures: 0,
    expected: ["acquire guarded", ...pair("cache")],
    check: both(refused, fellBack),
  },
  {
    feature: "fallback + rate limit",
    call: "refused (limit used), fallback run",
    workflow: "guarded-rate",
    before: { failing: false, times: 1 },
    fallback: true,
    failures: 0,
    expected: ["acquire guarded-rate", ...pair("cache")],
    check: both(rateRefused, fellBack),
  },
  {
    feature: "fallback_on_failure",
    call: "failed, fallback run",
    workflow: "guarded-on-failure",
    fallback: true,
    failures: 1,
    expected: [...pair("guarded-on-failure"), ...pair("cache")],
    check: (o) => (o.result?.ok === false ? fellBack(o) : "the call did not fail"),
  },
];

function fallbackPlan(workflow: ResolvedWorkflow): FallbackPlan {
  if (workflow.fallback === null) throw new Error(`workflow "${workflow.name}" has no fallback`);
  return { workflow: resolved(workflow.fallback.workflow), onFailure: workflow.fallback.onFailure, alert: null };
}

async function countOps(s: OpsScenario): Promise<{ log: string[]; wrong: string | null }> {
  let now = T0;
  const clock = () => now;
  const sleep = async (ms: number) => {
    now += ms;
  };
  const store = new CountingStore(new MemoryStateStore(clock));
  const options: ExecuteOptions = { clock, sleep, random: seededRandom(7) };
  const workflow = resolved(s.workflow);
  for (let i = 0; i < (s.before?.times ?? 0); i++) {
    await executeWorkflow(store, workflow, new Steps(s.before?.failing ? Infinity : 0), options);
    now += 1000;
  }
  store.log = [];
  const outcome = await executeWorkflow(store, workflow, new Steps(s.failures), s.fallback ? { ...options, fallback: fallbackPlan(workflow) } : options);
  const log = store.log;
  const sequence = log.join(", ") === s.expected.join(", ") ? null : `made [${log.join(", ")}], expected [${s.expected.join(", ")}]`;
  return { log, wrong: sequence ?? s.check(outcome) };
}

async function partOps(problems: string[]): Promise<string> {
  const rows: string[][] = [];
  for (const s of OPS_SCENARIOS) {
    const { log, wrong } = await countOps(s);
    if (wrong !== null) {
      const off = s.feature === "all off" ? ` (with every feature off an admitted call must be exactly 2 state operations and a refused one 1)` : "";
      problems.push(`state operations, ${s.feature}, ${s.call}: ${wrong}${off}`);
    }
    const byOp = new Map<string, number>();
    for (const entry of log) byOp.set(entry.split(" ")[0]!, (byOp.get(entry.split(" ")[0]!) ?? 0) + 1);
    const ops = [...byOp].map(([op, n]) => `${n} ${op}`).join(" + ");
    const breakers = new Set(log.map((entry) => entry.split(" ")[1]));
    rows.push([s.feature, s.call, ops + (breakers.size > 1 ? ` (${[...breakers].join(", ")})` : ""), String(log.length), String(s.expected.length), wrong === null ? "ok" : "WRONG"]);
  }
  return markdownTable(["feature", "call", "requests", "ops", "expected", "check"], rows, 3);
}

// ---------------------------------------------------------------------------------------------
// Part 2: state bytes after OUTCOMES outcomes

interface Rate {
  label: string;
  gapMs: number;
}

const RATES: Rate[] = [
  { label: "1 call / 10 ms", gapMs: 10 },
  { label: "1 call / s", gapMs: 1000 },
  { label: "1 call / min", gapMs: 60_000 },
];

interface SizeConfig {
  label: string;
  policy: BreakerPolicy;
  /** Spend a retry of the budget after every failed call. */
  retryOnFailure?: boolean;
}

const timeRate = (windowMs: number): BreakerPolicy => ({ ...DEFAULT_POLICY, trip: { kind: "time-failure-rate", rate: 0.5, windowMs, minimumCalls: 10 } });
const HOUR = 3_600_000;

const SIZE_CONFIGS: SizeConfig[] = [
  { label: "consecutive (no window)", policy: DEFAULT_POLICY },
  { label: "failure-rate, window_size 100", policy: { ...DEFAULT_POLICY, trip: { kind: "failure-rate", rate: 0.5, windowSize: 100, minimumCalls: 10 } } },
  { label: "failure-rate, window_size 1000", policy: { ...DEFAULT_POLICY, trip: { kind: "failure-rate", rate: 0.5, windowSize: 1000, minimumCalls: 10 } } },
  { label: "time-failure-rate, window 60 s", policy: timeRate(60_000) },
  { label: "time-failure-rate, window 600 s", policy: timeRate(600_000) },
  { label: "time-failure-rate, window 3600 s", policy: timeRate(HOUR) },
  {
    label: "time window + rate limit + retry budget, 3600 s each",
    policy: { ...timeRate(HOUR), rateLimit: { calls: 1_000_000_000, periodMs: HOUR }, retryBudget: { ratio: 0.2, minPerMinute: 10, windowMs: HOUR } },
    retryOnFailure: true,
  },
];

/** What a state keeps per outcome: window entries, or buckets per list. */
function kept(state: BreakerState): { window: number; buckets: number[] } {
  return { window: state.window.length, buckets: [state.outcomeBuckets.length, state.admissionBuckets.length, state.retryBuckets.length] };
}

interface SizeResult {
  bytes: number;
  /** Window entries or buckets at the end. */
  keptAtEnd: string;
  mostBuckets: number;
}

function stateAfter(c: SizeConfig, rate: Rate, problems: string[]): SizeResult {
  let state = initialState("deploy-prod", T0);
  let now = T0;
  let mostBuckets = 0;
  for (let i = 0; i < OUTCOMES; i++) {
    const a = acquire(state, c.policy, now, `p${i}`);
    state = a.state;
    if (!a.decision.admitted) throw new Error(`${c.label} at ${rate.label}: call ${i} refused: ${a.decision.reason}`);
    state = record(state, c.policy, now, a.decision.permit, fails(i) ? failOutcome : okOutcome).state;
    if (c.retryOnFailure && fails(i)) {
      const r = spendRetry(state, c.policy, now);
      state = r.state;
      if (!r.retry.allowed) throw new Error(`${c.label} at ${rate.label}: retry ${i} refused`);
    }
    mostBuckets = Math.max(mostBuckets, ...kept(state).buckets);
    now += rate.gapMs;
  }
  if (state.status !== "closed" || state.counters.stateChanges !== 0) problems.push(`state bytes, ${c.label} at ${rate.label}: the breaker left closed`);
  if (mostBuckets > MAX_BUCKETS) problems.push(`state bytes, ${c.label} at ${rate.label}: ${mostBuckets} buckets in one list, more than ${MAX_BUCKETS}`);
  const k = kept(state);
  const nonEmpty = k.buckets.filter((n) => n > 0);
  const windowMs = "windowMs" in c.policy.trip ? c.policy.trip.windowMs : null;
  const short = windowMs !== null && OUTCOMES * rate.gapMs < windowMs ? ` (${Math.round((OUTCOMES * rate.gapMs) / 1000)} s of calls: window not full)` : "";
  const keptAtEnd =
    c.policy.trip.kind === "failure-rate" ? `${k.window} outcomes` : nonEmpty.length === 0 ? "–" : `${nonEmpty.join(" + ")} buckets${short}`;
  return { bytes: Buffer.byteLength(serializeState(state)), keptAtEnd, mostBuckets };
}

function partSizes(problems: string[]): { table: string; mostBuckets: number } {
  let most = 0;
  const rows = SIZE_CONFIGS.map((c) => {
    const cells = RATES.flatMap((rate) => {
      const r = stateAfter(c, rate, problems);
      most = Math.max(most, r.mostBuckets);
      return [bytes(r.bytes), r.keptAtEnd];
    });
    return [c.label, ...cells];
  });
  const header = ["window", ...RATES.flatMap((r) => [`bytes, ${r.label}`, "kept"])];
  return { table: markdownTable(header, rows), mostBuckets: most };
}

// ---------------------------------------------------------------------------------------------
// Part 3: core cost per call, today's core (features off and on) against the baseline core

const BREAKER = "deploy-prod";
const CALL_GAP_MS = 10;

interface CoreVariant {
  name: string;
  core: CoreModule;
  policy: BreakerPolicy;
  /** Spend one retry of the budget in every call, between acquire and record. */
  retry: boolean;
  /** The caller has a fallback (acquire's option and record's argument). */
  fallback: boolean;
  /** Simulated time from one call to the next. */
  gapMs: number;
  /** Describes the state after the run; null when it is as the variant needs. */
  check: (state: BreakerState) => string | null;
  state: BreakerState;
  now: number;
  calls: number;
}

/** A closed breaker with a full default history (20 transitions), as a long-lived one has. */
function typicalState(core: CoreModule): BreakerState {
  const s = core.initialState(BREAKER, T0 - HOUR);
  for (let i = 0; i < DEFAULT_POLICY.historySize; i++) {
    const [from, to] = i % 2 === 0 ? (["closed", "open"] as const) : (["half-open", "closed"] as const);
    s.history.push({ at: T0 - HOUR + i * 1000, from, to, reason: `5 consecutive failures reached (last: step "deploy" exited with code 1)` });
  }
  s.generation = 20;
  s.counters.stateChanges = 20;
  s.lastError = { at: T0 - HOUR / 2, message: `workflow "deploy" failed: step "deploy" exited with code 1`, exitCode: 1, rule: "default: every failure counts" };
  return s;
}

const PLAIN_OPTIONS = { expectedDurationMs: 60_000 };
const FALLBACK_OPTIONS = { expectedDurationMs: 60_000, fallback: true };

function coreCall(v: CoreVariant): void {
  const i = v.calls++;
  const a = v.core.acquire(v.state, v.policy, v.now, `p${i}`, v.fallback ? FALLBACK_OPTIONS : PLAIN_OPTIONS);
  if (!a.decision.admitted) throw new Error(`${v.name}: call ${i} refused: ${a.decision.reason}`);
  let state = a.state;
  if (v.retry) {
    const r = v.core.spendRetry!(state, v.policy, v.now);
    if (!r.retry.allowed) throw new Error(`${v.name}: retry ${i} refused`);
    state = r.state;
  }
  v.now += v.gapMs / 2;
  v.state = v.core.record(state, v.policy, v.now, a.decision.permit, fails(i) ? failOutcome : okOutcome, 0.5, v.fallback).state;
  v.now += v.gapMs / 2;
}

function bucketsCheck(list: "outcomeBuckets" | "admissionBuckets" | "retryBuckets") {
  return (s: BreakerState) => {
    const n = s[list].length;
    return n >= 1 && n <= MAX_BUCKETS ? null : `${list} holds ${n} buckets`;
  };
}

async function coreVariants(todayFile: string, baselineFile: string): Promise<CoreVariant[]> {
  const MINUTE = 60_000;
  const specs: {
    name: string;
    file: string;
    policy: (p: BreakerPolicy) => BreakerPolicy;
    retry?: boolean;
    fallback?: boolean;
    gapMs?: number;
    check?: CoreVariant["check"];
  }[] = [
    { name: "today, every feature off (baseline)", file: todayFile, policy: (p) => p },
    { name: `${BASELINE} (before issue 18), same calls`, file: baselineFile, policy: (p) => p, check: (s) => ("outcomeBuckets" in s ? "the baseline core has time buckets" : null) },
    {
      name: "failure-rate, window_size 100 (count window, for reference)",
      file: todayFile,
      policy: (p) => ({ ...p, trip: { kind: "failure-rate", rate: 0.5, windowSize: 100, minimumCalls: 10 } }),
      check: (s) => (s.window.length === 100 ? null : `window holds ${s.window.length}`),
    },
    { name: "time-failure-rate over 60 s", file: todayFile, policy: (p) => ({ ...p, trip: { kind: "time-failure-rate", rate: 0.5, windowMs: MINUTE, minimumCalls: 10 } }), check: bucketsCheck("outcomeBuckets") },
    {
      name: "time-failure-rate over 60 s, 1 call / min (2 buckets)",
      file: todayFile,
      policy: (p) => ({ ...p, trip: { kind: "time-failure-rate", rate: 0.5, windowMs: MINUTE, minimumCalls: 10 } }),
      gapMs: MINUTE,
      check: (s) => (s.outcomeBuckets.length <= 2 ? null : `outcomeBuckets holds ${s.outcomeBuckets.length} buckets`),
    },
    { name: "failures-in-time within 60 s", file: todayFile, policy: (p) => ({ ...p, trip: { kind: "failures-in-time", threshold: 1_000_000, windowMs: MINUTE } }), check: bucketsCheck("outcomeBuckets") },
    { name: "rate limit (never reached), 60 s", file: todayFile, policy: (p) => ({ ...p, rateLimit: { calls: 1_000_000_000, periodMs: MINUTE } }), check: bucketsCheck("admissionBuckets") },
    { name: "retry budget, no retry", file: todayFile, policy: (p) => ({ ...p, retryBudget: { ratio: 0.2, minPerMinute: 10, windowMs: MINUTE } }), check: bucketsCheck("retryBuckets") },
    {
      name: "retry budget, one retry per call (+ spendRetry)",
      file: todayFile,
      policy: (p) => ({ ...p, retryBudget: { ratio: 1, minPerMinute: 10, windowMs: MINUTE } }),
      retry: true,
      check: bucketsCheck("retryBuckets"),
    },
    { name: "fallback (caller has one; never refused)", file: todayFile, policy: (p) => p, fallback: true },
    {
      name: "time window + rate limit + retry budget, no retry",
      file: todayFile,
      policy: (p) => ({
        ...p,
        trip: { kind: "time-failure-rate", rate: 0.5, windowMs: MINUTE, minimumCalls: 10 },
        rateLimit: { calls: 1_000_000_000, periodMs: MINUTE },
        retryBudget: { ratio: 0.2, minPerMinute: 10, windowMs: MINUTE },
      }),
      check: (s) => bucketsCheck("outcomeBuckets")(s) ?? bucketsCheck("admissionBuckets")(s) ?? bucketsCheck("retryBuckets")(s),
    },
  ];
  const variants: CoreVariant[] = [];
  for (const [i, spec] of specs.entries()) {
    const core = await loadCore(spec.file, `variant-${i}`);
    if (spec.retry && core.spendRetry === undefined) throw new Error(`${spec.name}: the core has no spendRetry`);
    variants.push({
      name: spec.name,
      core,
      policy: spec.policy(core.DEFAULT_POLICY),
      retry: spec.retry ?? false,
      fallback: spec.fallback ?? false,
      gapMs: spec.gapMs ?? CALL_GAP_MS,
      check: spec.check ?? (() => null),
      state: typicalState(core),
      now: T0,
      calls: 0,
    });
  }
  return variants;
}

function timeBatch(v: CoreVariant, n: number): number {
  const start = nowNs();
  for (let i = 0; i < n; i++) coreCall(v);
  return elapsedNs(start) / n;
}

function measureCores(variants: CoreVariant[]): Map<CoreVariant, number[]> {
  const sizes = new Map<CoreVariant, number>();
  for (const v of variants) {
    // Warm-up: JIT, and the windows filled (60 s of simulated calls is 6,000 calls); sizes the batches.
    const until = Date.now() + WARMUP_MS;
    let perCall = timeBatch(v, 100);
    while (Date.now() < until) perCall = timeBatch(v, 1000);
    sizes.set(v, batchSize(perCall, BATCH_MS, 100, 1_000_000));
  }
  const times = new Map<CoreVariant, number[]>(variants.map((v) => [v, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of rotate(variants, round)) times.get(v)!.push(timeBatch(v, sizes.get(v)!));
  }
  return times;
}

async function partCore(root: string, problems: string[]): Promise<{ table: string; describeToday: string }> {
  const todayFile = join(root, "core-today.mjs");
  const baselineFile = join(root, "core-baseline.mjs");
  await bundleCore(repo, todayFile);
  let standIn = false;
  try {
    await bundleCore(coreSourcesAt(repo, BASELINE, join(root, "baseline-src")), baselineFile);
  } catch (e) {
    // A smoke run checks the code paths, not the figures: a shallow CI clone must not fail it.
    if (!SMOKE) throw e;
    console.log(`smoke run: ${(e as Error).message}; today's core stands in for the baseline`);
    await bundleCore(repo, baselineFile);
    standIn = true;
  }
  const variants = (await coreVariants(todayFile, baselineFile)).map((v, i) => (standIn && i === 1 ? { ...v, check: () => null } : v));
  const times = measureCores(variants);
  const today = times.get(variants[0]!)!;
  const base = times.get(variants[1]!)!;
  const perRound = (xs: number[], ys: number[]) => median(xs.map((x, r) => x / ys[r]!));
  const rows = variants.map((v) => {
    const t = times.get(v)!;
    return [v.name, fixed(0)(median(t)), `${spread(t, fixed(0))} (${relativeSpread(t)})`, ratio(perRound(t, today)), ratio(perRound(t, base))];
  });
  for (const v of variants) {
    const wrong = v.check(v.state) ?? (v.state.status === "closed" && v.state.counters.stateChanges === 20 ? null : `the breaker is ${v.state.status}`);
    if (wrong !== null) problems.push(`core cost, ${v.name}: ${wrong}`);
  }
  const head = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: repo, encoding: "utf8" }).stdout.trim();
  const dirty = spawnSync("git", ["status", "--porcelain", "--", "lib/core"], { cwd: repo, encoding: "utf8" }).stdout.trim() !== "";
  return {
    table: markdownTable(["variant", "ns per acquire + record (median)", "spread p25–p75", "× today off", `× ${BASELINE}`], rows),
    describeToday: `today's core: the work tree's lib/core at ${head}${dirty ? " (with uncommitted changes)" : ""}; baseline: lib/core at ${BASELINE}`,
  };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  console.log(`# Fleet policies (issue 18): state operations, state bytes and core cost`);
  printSmokeNotice();
  console.log(`\n${machineLine()}.`);
  const problems: string[] = [];

  console.log(`\n## State operations per call through executeWorkflow (MemoryStateStore, counted)\n`);
  console.log(await partOps(problems));

  console.log(`\n## State bytes after ${OUTCOMES.toLocaleString("en")} outcomes (every tenth a failure, breaker closed)\n`);
  const sizes = partSizes(problems);
  console.log(sizes.table);
  console.log(`\nkept: outcomes in the count window, or buckets per list (outcomes + admissions + retries). Most buckets in one list at any point of any run: ${sizes.mostBuckets} (bound ${MAX_BUCKETS}).`);

  const root = mkdtempSync(join(tmpdir(), "cb-bench-policies-"));
  try {
    console.log(`\n## Core cost per call: acquire + record, closed breaker, history 20, 10% failures, simulated 10 ms per call unless said (a 60 s bucket list then holds 61 buckets)\n`);
    const core = await partCore(root, problems);
    console.log(`${core.describeToday}; both bundled by esbuild the same way, each variant its own module instance.`);
    console.log(`${ROUNDS} interleaved rounds, batches of ~${BATCH_MS} ms after ${WARMUP_MS} ms of warm-up per variant; ratios are medians of per-round ratios.\n`);
    console.log(core.table);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }

  if (problems.length > 0) {
    console.error(`\nFAILED: ${problems.length} check(s) did not hold, so the figures above are not what they claim:\n${problems.map((p) => `- ${p}`).join("\n")}`);
    process.exitCode = 1;
  } else {
    console.log(`\nChecks: every state-operation sequence as expected, every bucket list within ${MAX_BUCKETS}, every breaker closed with each feature exercised.`);
  }
}

await main();
