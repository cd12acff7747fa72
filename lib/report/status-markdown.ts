/**
 * `status --format markdown`: the breakers as a GFM table for a CI job's summary page
 * ($GITHUB_STEP_SUMMARY, a GitLab job summary). Everything that came from outside the module
 * (breaker names, error output, problem messages) goes through markdownCodeCell, so it cannot
 * add rows, links, images or HTML; the rest is text written here. Nothing links anywhere.
 */
import type { BreakerState, Status } from "../core/state.js";
import { formatFailures, viewOf, type BreakerView } from "../core/view.js";
import type { StateProblem } from "../store/request.js";
import { markdownCodeCell } from "./markdown-code.js";

/** A word is there for screen readers and for text-only renderers; the symbol for a glance. */
const STATE_LABEL: Record<Status, string> = {
  closed: "🟢 closed",
  "half-open": "🟡 half-open",
  open: "🔴 open",
  "forced-open": "⛔ forced open",
  disabled: "⚪ disabled",
};

/** Long enough to recognise an error, short enough to keep a row on one line of a page. */
const ERROR_LENGTH = 100;
const PROBLEM_LENGTH = 200;

function time(at: number | null): string {
  return at === null ? "-" : new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function lastError(v: BreakerView): string {
  const e = v.lastError;
  if (e === null) return "-";
  const exit = e.exitCode === null ? "" : ` (exit ${e.exitCode})`;
  return `${markdownCodeCell(e.message, ERROR_LENGTH)}${exit} at ${time(e.at)}`;
}

function nextProbe(v: BreakerView): string {
  if (v.status === "half-open") return "now";
  if (v.status === "forced-open" && v.nextProbeAt === null) return "at reset";
  return time(v.nextProbeAt);
}

function row(cells: string[]): string {
  return `| ${cells.join(" | ")} |`;
}

/**
 * The summary; `prefix` is the `--prefix` the breakers were chosen by, said when none matched.
 * Numbers and times are the module's own, so only outside text needs escaping.
 */
export function statusMarkdown(states: BreakerState[], problems: StateProblem[], now: number, prefix: string | null = null): string {
  const lines = ["### Circuit breakers", ""];
  if (states.length === 0 && problems.length === 0) {
    lines.push(
      prefix === null
        ? "No breakers yet: a breaker is created by its first protected call."
        : `No breaker has a name starting with ${markdownCodeCell(prefix, ERROR_LENGTH)}.`,
    );
  }
  if (states.length > 0) {
    lines.push(row(["Breaker", "State", "Failures", "Last error", "Opened at", "Next probe"]), row(Array(6).fill("---")));
    for (const v of states.map((s) => viewOf(s, now))) {
      lines.push(row([markdownCodeCell(v.name, ERROR_LENGTH), STATE_LABEL[v.status], formatFailures(v), lastError(v), time(v.openedAt), nextProbe(v)]));
    }
  }
  if (problems.length > 0) {
    if (states.length > 0) lines.push("");
    lines.push(row(["Unreadable breaker", "Problem"]), row(["---", "---"]));
    for (const p of problems) lines.push(row([markdownCodeCell(p.breaker, ERROR_LENGTH), markdownCodeCell(p.message, PROBLEM_LENGTH)]));
  }
  lines.push("", `State read at ${time(now)}.`);
  return `${lines.join("\n")}\n`;
}
