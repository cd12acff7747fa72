/**
 * Smoke mode, BENCH_SMOKE=1: a benchmark runs one short round through the same code and the same
 * checks as its full run, so that a benchmark broken by a change fails in CI (`npm run
 * bench:smoke`) rather than on the day someone needs its figures. Its figures measure nothing.
 */

function readSmoke(): boolean {
  const value = process.env.BENCH_SMOKE;
  if (value === undefined || value === "" || value === "0") return false;
  if (value === "1") return true;
  // A typo must not quietly start a full run of several minutes in CI.
  throw new Error(`BENCH_SMOKE=${value}: expected 1 (smoke mode) or 0`);
}

export const SMOKE = readSmoke();

/**
 * A size of the run (rounds, batch length, operations...): the environment variable `name` when
 * set, else `smoke` in smoke mode, else `full`.
 */
export function runSize(name: string, full: number, smoke: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return SMOKE ? smoke : full;
  const n = Number(text);
  // A typo (NaN), 0 or a negative size would run empty batches and report nonsense.
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${text}: expected a positive number`);
  return n;
}

/** Says so under a benchmark's title in smoke mode, so that nobody copies its figures. */
export function printSmokeNotice(): void {
  if (SMOKE) console.log(`\nSmoke mode (BENCH_SMOKE=1): one short round to check that the benchmark still works; the figures below measure nothing.`);
}
