import { formatDuration } from "../core/duration.js";
import type { PruneKeepReason, PruneResult, StateProblem } from "../store/request.js";
import { renderTable } from "./table.js";

const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");

/** Why a breaker stayed, and what a person can do about it when it is something only they can end. */
export function keepReasonText(reason: PruneKeepReason, now: number): string {
  switch (reason.kind) {
    case "recently-used":
      return "used recently";
    case "forced-open":
      return reason.until === null
        ? "forced open by hand until reset"
        : reason.until > now
          ? `forced open by hand until ${iso(reason.until)}`
          : `tripped by hand (ended ${iso(reason.until)}); reset it to let prune remove it`;
    case "disabled":
      return "disabled by hand; reset it to let prune remove it";
    case "probes-in-flight":
      return reason.overdueSince === null
        ? `${reason.count} probe(s) in flight`
        : `${reason.count} probe(s) in flight, overdue since ${iso(reason.overdueSince)}; reset it to let prune remove it`;
    case "leases":
      return reason.overdueSince === null
        ? `${reason.count} call(s) holding a concurrency slot`
        : `${reason.count} call(s) holding a concurrency slot, overdue since ${iso(reason.overdueSince)}`;
    case "open":
      return `open until ${iso(reason.until)}`;
    case "used-while-pruning":
      return "used while the prune ran";
  }
}

/**
 * What a prune did, for a person: one row per breaker removed or kept for a reason other than
 * recent use (those are only counted), then problems and leftovers. `unusedFor` is the
 * duration as the caller typed it.
 */
export function pruneTable(result: PruneResult, problems: StateProblem[], now: number, unusedFor: string, store: string): string {
  const lastUsed = (t: number) => `${iso(t)} (${formatDuration(now - t)} ago)`;
  const removedLabel = result.dryRun ? "would remove" : "removed";
  const held = result.kept.filter((k) => k.reason.kind !== "recently-used");
  const recent = result.kept.length - held.length;
  const rows = [
    ...result.removed.map((r) => [r.breaker, lastUsed(r.lastUsedAt), removedLabel, `unused for more than ${unusedFor}`]),
    ...held.map((k) => [k.breaker, lastUsed(k.lastUsedAt), "kept", keepReasonText(k.reason, now)]),
  ].sort((a, b) => (a[0] ?? "").localeCompare(b[0] ?? ""));
  const lines = [
    result.dryRun
      ? `dry run: nothing was removed from ${store}; ${result.removed.length} breaker(s) unused for more than ${unusedFor} would be removed.`
      : `removed ${result.removed.length} breaker(s) unused for more than ${unusedFor} from ${store}.`,
  ];
  if (rows.length > 0) lines.push(renderTable(["BREAKER", "LAST USED", "RESULT", "WHY"], rows));
  lines.push(`${recent} breaker(s) used within the last ${unusedFor} kept.`);
  if (result.leftovers.length > 0) {
    const what = result.leftovers
      .map((l) => (l.kind === "temporary-file" ? `temporary file ${l.name}` : `name ${l.name} (its state had expired)`))
      .join(", ");
    lines.push(`${result.dryRun ? "would also clean up" : "also cleaned up"}: ${what}`);
  }
  for (const p of problems) lines.push(`! ${p.message}`);
  return lines.join("\n");
}
