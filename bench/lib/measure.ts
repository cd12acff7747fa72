import { availableParallelism, cpus } from "node:os";

/**
 * Small helpers shared by the benchmarks: timing, robust summaries and markdown tables.
 * Benchmarks report medians over rounds and ratios to a baseline measured in the same process
 * and the same round; they never compare against absolute thresholds.
 */

export function nowNs(): bigint {
  return process.hrtime.bigint();
}

export function elapsedNs(start: bigint): number {
  return Number(process.hrtime.bigint() - start);
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function min(values: readonly number[]): number {
  return Math.min(...values);
}

export function max(values: readonly number[]): number {
  return Math.max(...values);
}

/** The q-quantile (0..1) with linear interpolation between the sorted rounds. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/** Spread of the rounds as the interquartile range "p25–p75", formatted with `format`. */
export function spread(values: readonly number[], format: (n: number) => string): string {
  return `${format(quantile(values, 0.25))}–${format(quantile(values, 0.75))}`;
}

/** Half the interquartile range relative to the median, e.g. "±4%". */
export function relativeSpread(values: readonly number[]): string {
  const m = median(values);
  if (!Number.isFinite(m) || m === 0) return "n/a";
  return `±${Math.round(((quantile(values, 0.75) - quantile(values, 0.25)) / 2 / m) * 100)}%`;
}

export function fixed(digits: number): (n: number) => string {
  return (n) => n.toFixed(digits);
}

export function ratio(n: number): string {
  if (!Number.isFinite(n)) return "n/a";
  return n >= 100 ? `${Math.round(n)}×` : n >= 10 ? `${n.toFixed(1)}×` : `${n.toFixed(2)}×`;
}

export function bytes(n: number): string {
  if (n < 10_000) return `${n} B`;
  if (n < 10_000_000) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A markdown table; the first `textColumns` columns are left-aligned, the rest right-aligned. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], textColumns = 1): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  const rule = `|${header.map((_, i) => (i < textColumns ? "---" : "---:")).join("|")}|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

/** Rotates `items` by `round` so that no variant always runs first (interleaving reduces drift). */
export function rotate<T>(items: readonly T[], round: number): T[] {
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** Picks a batch size so that one batch of `perCallNs` calls takes about `targetMs`. */
export function batchSize(perCallNs: number, targetMs: number, lowest = 1, highest = 1_000_000): number {
  const n = Math.round((targetMs * 1e6) / Math.max(perCallNs, 1));
  return Math.min(highest, Math.max(lowest, n));
}

export function machineLine(): string {
  const model = cpus()[0]?.model.trim() ?? "unknown CPU";
  return `node ${process.version}, ${process.platform}/${process.arch}, ${availableParallelism()} cores (${model})`;
}
