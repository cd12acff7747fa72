/**
 * Writes docs/history-chart.svg, the README's picture of `history-chart`: an hour of a made-up
 * staging-api breaker, driven through the pure core with a fake clock as a store drives it, so
 * the picture is what the function would return for that history.
 *
 *   tsx scripts/history-chart-example.ts      (npm run docs:history-chart)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { CallOutcome } from "../lib/core/outcome.js";
import { DEFAULT_POLICY, type BreakerPolicy } from "../lib/core/policy.js";
import { initialState } from "../lib/core/state.js";
import { acquire, advance, record, trip } from "../lib/core/transitions.js";
import { historyChartSvg } from "../lib/report/history-chart.js";

const out = resolve(dirname(fileURLToPath(import.meta.url)), "..", "docs", "history-chart.svg");
const at = (hh: number, mm: number): number => Date.UTC(2026, 11, 4, hh, mm, 0);
const policy: BreakerPolicy = {
  ...DEFAULT_POLICY,
  trip: { kind: "consecutive", threshold: 3 },
  resetTimeoutMs: 5 * 60_000,
  resetTimeoutMultiplier: 2,
  ignoredExitCodes: [75],
};

let state = initialState("staging-api", at(10, 0));
let permits = 0;
function call(started: number, outcome: CallOutcome): void {
  const r = acquire(state, policy, started, `p${permits++}`);
  if (!r.decision.admitted) throw new Error(`the example's call at ${new Date(started).toISOString()} was refused: ${r.decision.reason}`);
  state = record(r.state, policy, started + outcome.durationMs, r.decision.permit, outcome).state;
}
const gateway: CallOutcome = { ok: false, durationMs: 20_000, exitCode: 1, error: "step deploy exited 1: 502 Bad Gateway from staging-api" };
// Under half_open_timeout (30 s), so a probe reports before it is taken for dead.
const ok: CallOutcome = { ok: true, durationMs: 20_000 };

call(at(10, 2), ok);
for (const mm of [5, 6, 7]) call(at(10, mm) - 20_000, gateway); // open at 10:07 for 5 min
call(at(10, 12), gateway); // the probe fails: open for 10 min
call(at(10, 23), ok); // the next one closes it
call(at(10, 35), { ok: false, durationMs: 20_000, exitCode: 75, error: "registry rate limit, try later" });
state = trip(state, policy, at(10, 40), 10 * 60_000, "maintenance window");
state = advance(state, policy, at(10, 50));
call(at(10, 51), ok);
for (const mm of [55, 56, 57]) call(at(10, mm) - 20_000, gateway); // open again at 10:57

mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, historyChartSvg(state, at(11, 0)));
console.log(`wrote ${out}`);
