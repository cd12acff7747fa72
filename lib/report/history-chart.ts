/**
 * `history-chart`: a breaker's history as a self-contained SVG. State bands over time come from
 * the transitions the state keeps (history_size of them); failures and probes are marks where
 * the state knows their time: a trip or a failed probe is a counted failure at its transition,
 * the last counted and the last neutral failure are stored with their times, a probe round's
 * end is a transition, and probes in flight have their start. Nothing else is stored, so
 * nothing else is drawn. Pure: the clock is passed in.
 *
 * No script, no link, no external font or image: a README, a CI artifact or a browser shows it
 * as it is. Light and dark themes come from one embedded <style>, and every text that came
 * from state goes through xmlText.
 */
import { DEFAULT_POLICY } from "../core/policy.js";
import type { BreakerState, LastError, Status } from "../core/state.js";
import { advance } from "../core/transitions.js";
import { oneLine } from "./one-line.js";
import { xmlText } from "./xml-text.js";

/** Where things are drawn, in SVG units (one per CSS pixel at the natural size). */
export const CHART_GEOMETRY = {
  width: 800,
  height: 300,
  plotLeft: 80,
  plotRight: 780,
  bandTop: 64,
  bandHeight: 36,
  failureRow: 118,
  probeRow: 140,
  axisTop: 156,
} as const;

/** Each state's colour, chosen to tell the five apart on the theme's background. */
export const CHART_COLOURS: Record<"light" | "dark", { background: string; text: string; muted: string; states: Record<Status, string> }> = {
  light: {
    background: "#ffffff",
    text: "#1f2328",
    muted: "#59636e",
    states: { closed: "#2da44e", open: "#cf222e", "half-open": "#d4a72c", "forced-open": "#8250df", disabled: "#8c959f" },
  },
  dark: {
    background: "#0d1117",
    text: "#e6edf3",
    muted: "#9198a1",
    states: { closed: "#3fb950", open: "#f85149", "half-open": "#e3b341", "forced-open": "#a371f7", disabled: "#6e7681" },
  },
};

const STATES: Status[] = ["closed", "open", "half-open", "forced-open", "disabled"];
const STATE_WORD: Record<Status, string> = {
  closed: "closed",
  open: "open",
  "half-open": "half-open",
  "forced-open": "forced open",
  disabled: "disabled",
};

/** A stretch of time the breaker spent in one state; `reason` is the transition that began it. */
export interface ChartBand {
  status: Status;
  from: number;
  to: number;
  x: number;
  width: number;
  reason: string | null;
}

export type MarkKind = "failure" | "neutral" | "probe-ok" | "probe-failed" | "probe-running";

export interface ChartMark {
  kind: MarkKind;
  at: number;
  x: number;
  text: string;
}

/** The rest of the current open time (or timed manual trip), after `now`. */
export interface ChartNextProbe {
  at: number;
  /** Null when the wait is too long to draw without squeezing the past; then it is only said. */
  x: number | null;
  width: number;
}

export interface ChartLayout {
  name: string;
  status: Status;
  start: number;
  end: number;
  now: number;
  bands: ChartBand[];
  marks: ChartMark[];
  nextProbe: ChartNextProbe | null;
  transitionsKept: number;
  lastError: LastError | null;
  lastIgnored: LastError | null;
}

/** The reason record() gives a close by probes (lib/core/transitions.ts), not a reset by hand. */
const PROBES_CLOSED = /^\d+ probe\(s\) succeeded$/;

/** The breaker as of `now`: what the chart draws, with the x of every time. */
export function historyChartLayout(stored: BreakerState, now: number): ChartLayout {
  // As `status` does: an open time that has run out is half-open now, though not yet stored.
  const state = advance(stored, stored.policy ?? DEFAULT_POLICY, now);
  const history = state.history;
  const spans =
    history.length === 0
      ? [{ status: state.status, from: state.since, to: now, reason: null }]
      : history.map((t, i) => ({ status: t.to, from: t.at, to: history[i + 1]?.at ?? now, reason: t.reason }));

  const marks: Omit<ChartMark, "x">[] = [];
  for (const t of history) {
    if (t.to === "open" && (t.from === "closed" || t.from === "half-open")) marks.push({ kind: "failure", at: t.at, text: t.reason });
    if (t.from === "half-open" && t.to === "open") marks.push({ kind: "probe-failed", at: t.at, text: t.reason });
    if (t.from === "half-open" && t.to === "closed" && PROBES_CLOSED.test(t.reason)) marks.push({ kind: "probe-ok", at: t.at, text: t.reason });
  }
  const e = state.lastError;
  // The last counted failure is often the one that tripped the breaker: one mark for both.
  if (e !== null && !marks.some((m) => m.kind === "failure" && m.at === e.at)) {
    marks.push({ kind: "failure", at: e.at, text: `last counted failure [${e.rule ?? "default"}]: ${e.message}` });
  }
  const n = state.lastIgnored;
  if (n !== null) marks.push({ kind: "neutral", at: n.at, text: `last neutral failure [${n.rule ?? "ignored"}]: ${n.message}` });
  for (const p of state.probesInFlight) marks.push({ kind: "probe-running", at: p.issuedAt, text: `probe ${p.id} running` });

  const start = Math.min(spans[0]?.from ?? now, ...marks.map((m) => m.at));
  const waitEnd = state.status === "open" ? state.openUntil : state.status === "forced-open" ? state.forcedUntil : null;
  const past = Math.max(now, state.updatedAt) - start;
  // A wait up to half the drawn past is drawn; a longer one (a trip for a week) only said.
  const drawWait = waitEnd !== null && waitEnd > now && waitEnd - now <= past / 2;
  let end = Math.max(now, state.updatedAt, drawWait && waitEnd !== null ? waitEnd : now);
  if (end - start < 1000) end = start + 1000;
  const { plotLeft, plotRight } = CHART_GEOMETRY;
  const xOf = (t: number): number => plotLeft + ((t - start) / (end - start)) * (plotRight - plotLeft);

  return {
    name: state.name,
    status: state.status,
    start,
    end,
    now,
    bands: spans.map((s) => ({ ...s, x: xOf(s.from), width: xOf(s.to) - xOf(s.from) })),
    marks: marks.sort((a, b) => a.at - b.at).map((m) => ({ ...m, x: xOf(m.at) })),
    nextProbe:
      waitEnd === null || waitEnd <= now
        ? null
        : { at: waitEnd, x: drawWait ? xOf(now) : null, width: drawWait ? xOf(waitEnd) - xOf(now) : 0 },
    transitionsKept: history.length,
    lastError: state.lastError,
    lastIgnored: state.lastIgnored,
  };
}

function iso(at: number): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.round(m / 60);
  return h < 48 ? `${h} h` : `${Math.round(h / 24)} d`;
}

function num(n: number): string {
  return n.toFixed(2);
}

/** Outside text for a label or tooltip: one line, cut, then escaped. */
function text(s: string, max = 160): string {
  return xmlText(oneLine(s, max));
}

function style(): string {
  const rules = (c: (typeof CHART_COLOURS)["light"]): string =>
    [
      `.bg{fill:${c.background}}`,
      `.fg{fill:${c.text}}`,
      `.muted{fill:${c.muted}}`,
      `.axis{stroke:${c.muted}}`,
      `.wait{fill:none;stroke:${c.states.open}}`,
      `.fwait{fill:none;stroke:${c.states["forced-open"]}}`,
      ...STATES.map((s) => `.s-${s}{fill:${c.states[s]}}`),
      `.m-failure{fill:${c.states.open}}`,
      `.m-neutral{fill:none;stroke:${c.muted};stroke-width:2}`,
      `.m-probe-ok{fill:${c.states.closed}}`,
      `.m-probe-failed{fill:${c.states.open}}`,
      `.m-probe-running{fill:none;stroke:${c.states["half-open"]};stroke-width:2}`,
    ].join("");
  return [
    `text{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;font-size:12px}`,
    ".title{font-size:15px;font-weight:600}",
    rules(CHART_COLOURS.light),
    `@media (prefers-color-scheme: dark){${rules(CHART_COLOURS.dark)}}`,
  ].join("\n");
}

function markShape(m: ChartMark): string {
  const x = num(m.x);
  const tip = `<title>${text(`${iso(m.at)} ${m.text}`, 300)}</title>`;
  const { failureRow: f, probeRow: p } = CHART_GEOMETRY;
  switch (m.kind) {
    case "failure":
      return `<path class="m-failure" d="M${x} ${f + 6}l-6 -11h12z">${tip}</path>`;
    case "neutral":
      return `<path class="m-neutral" d="M${x} ${f - 6}l6 6l-6 6l-6 -6z">${tip}</path>`;
    default:
      return `<circle class="m-${m.kind}" cx="${x}" cy="${p}" r="5">${tip}</circle>`;
  }
}

/** The SVG document for one breaker as of `now`. */
export function historyChartSvg(state: BreakerState, now: number): string {
  const layout = historyChartLayout(state, now);
  const g = CHART_GEOMETRY;
  const out: string[] = [];
  const name = text(layout.name, 64);
  const next = layout.nextProbe;
  const waitEnds = next === null ? "" : layout.status === "open" ? `, next probe ${iso(next.at)}` : `, trip ends ${iso(next.at)}`;
  const untilReset = next === null && layout.status === "forced-open" ? " until reset" : "";
  const summary = `${STATE_WORD[layout.status]} now${waitEnds}${untilReset}; ${layout.transitionsKept} transition(s) kept; drawn at ${iso(layout.now)}`;
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${g.width}" height="${g.height}" viewBox="0 0 ${g.width} ${g.height}" role="img" aria-labelledby="chart-title chart-desc">`,
    `<title id="chart-title">Circuit breaker ${name}: history</title>`,
    `<desc id="chart-desc">${xmlText(summary)}</desc>`,
    `<style>\n${style()}\n</style>`,
    `<rect class="bg" x="0" y="0" width="${g.width}" height="${g.height}"/>`,
    `<text class="fg title" x="${g.plotLeft}" y="22">Circuit breaker ${name}</text>`,
    `<text class="muted" x="${g.plotLeft}" y="40">${xmlText(summary)}</text>`,
  );

  out.push(
    `<text class="muted" x="8" y="${g.bandTop + g.bandHeight / 2 + 4}">state</text>`,
    `<text class="muted" x="8" y="${g.failureRow + 4}">failures</text>`,
    `<text class="muted" x="8" y="${g.probeRow + 4}">probes</text>`,
  );
  for (const b of layout.bands) {
    const tip = `${STATE_WORD[b.status]} ${iso(b.from)} to ${iso(b.to)} (${duration(b.to - b.from)})${b.reason === null ? "" : `: ${b.reason}`}`;
    out.push(
      `<rect class="band s-${b.status}" x="${num(b.x)}" y="${g.bandTop}" width="${num(b.width)}" height="${g.bandHeight}"><title>${text(tip, 300)}</title></rect>`,
    );
    // The open times, over their bands where there is room.
    if ((b.status === "open" || b.status === "forced-open") && b.width >= 40) {
      const label = `${b.status === "open" ? "open" : "forced"} ${duration(b.to - b.from)}`;
      out.push(`<text class="fg" x="${num(b.x + b.width / 2)}" y="${g.bandTop - 6}" text-anchor="middle">${label}</text>`);
    }
  }
  // The rest of the wait, when short enough to draw; the summary line says when it ends anyway.
  if (next !== null && next.x !== null) {
    out.push(
      `<rect class="${layout.status === "open" ? "wait" : "fwait"}" x="${num(next.x + 1)}" y="${g.bandTop + 1}" width="${num(Math.max(0, next.width - 2))}" height="${g.bandHeight - 2}" stroke-dasharray="4 3"><title>${waitEnds.slice(2)}</title></rect>`,
    );
  }
  for (const m of layout.marks) out.push(markShape(m));

  // Time axis: five ticks, UTC; the date once, at the start.
  out.push(`<line class="axis" x1="${g.plotLeft}" y1="${g.axisTop}" x2="${g.plotRight}" y2="${g.axisTop}"/>`);
  for (let i = 0; i <= 4; i += 1) {
    const at = layout.start + ((layout.end - layout.start) * i) / 4;
    const x = num(g.plotLeft + ((g.plotRight - g.plotLeft) * i) / 4);
    const anchor = i === 0 ? "start" : i === 4 ? "end" : "middle";
    out.push(
      `<line class="axis" x1="${x}" y1="${g.axisTop}" x2="${x}" y2="${g.axisTop + 4}"/>`,
      `<text class="muted" x="${x}" y="${g.axisTop + 17}" text-anchor="${anchor}">${iso(at).slice(11, 19)}</text>`,
    );
  }
  out.push(`<text class="muted" x="8" y="${g.axisTop + 17}">${iso(layout.start).slice(0, 10)}</text>`);
  out.push(`<text class="muted" x="${g.plotRight}" y="${g.axisTop + 31}" text-anchor="end">UTC</text>`);

  // Legend: every state and mark, so colour is never the only cue.
  let lx: number = g.plotLeft;
  const ly = 210;
  for (const s of STATES) {
    out.push(`<rect class="s-${s}" x="${lx}" y="${ly - 9}" width="12" height="12"/>`, `<text class="fg" x="${lx + 16}" y="${ly + 1}">${STATE_WORD[s]}</text>`);
    lx += 24 + STATE_WORD[s].length * 7;
  }
  const legendMarks: [MarkKind, string][] = [
    ["failure", "counted failure"],
    ["neutral", "neutral failure"],
    ["probe-ok", "probes closed it"],
    ["probe-failed", "probe failed"],
    ["probe-running", "probe running"],
  ];
  let mx: number = g.plotLeft;
  const my = 232;
  for (const [kind, word] of legendMarks) {
    const shape =
      kind === "failure"
        ? `<path class="m-failure" d="M${mx + 6} ${my + 2}l-6 -11h12z"/>`
        : kind === "neutral"
          ? `<path class="m-neutral" d="M${mx + 6} ${my - 10}l6 6l-6 6l-6 -6z"/>`
          : `<circle class="m-${kind}" cx="${mx + 6}" cy="${my - 4}" r="5"/>`;
    out.push(shape, `<text class="fg" x="${mx + 16}" y="${my + 1}">${word}</text>`);
    mx += 30 + word.length * 6.5;
  }
  const e = layout.lastError;
  const n = layout.lastIgnored;
  const lines = [
    e === null ? "no counted failure stored" : `last counted failure ${iso(e.at)} [${e.rule ?? "default"}]: ${e.message}`,
    n === null ? "no neutral failure stored" : `last neutral failure ${iso(n.at)} [${n.rule ?? "ignored"}]: ${n.message}`,
    "Only the last counted and the last neutral failure are stored; earlier ones show where they opened the breaker.",
  ];
  lines.forEach((line, i) => out.push(`<text class="muted" x="8" y="${256 + i * 16}">${text(line, 120)}</text>`));
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
