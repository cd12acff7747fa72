/**
 * The history chart's drawing, without a browser: bands where the transitions put them,
 * marks at the failures and probes the state knows of, every outside text escaped, nothing
 * that reaches outside the file. tests/report/history-chart-chromium.test.ts looks at the
 * rendered pixels.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../lib/core/policy.js";
import { initialState } from "../../lib/core/state.js";
import { acquire, record, trip } from "../../lib/core/transitions.js";
import { CHART_GEOMETRY, historyChartLayout, historyChartSvg } from "../../lib/report/history-chart.js";
import { xmlText } from "../../lib/report/xml-text.js";
import { knownHistory, T0 } from "../helpers/chart-history.js";

const { plotLeft, plotRight, bandTop, bandHeight } = CHART_GEOMETRY;

/** The SVG writes two decimals: "exactly" is to within that rounding. */
function near(actual: number | undefined, expected: number, within = 0.005 + 1e-9): void {
  expect(Math.abs((actual ?? Number.NaN) - expected), `${actual} against ${expected}`).toBeLessThanOrEqual(within);
}

/** Every tag and the style sheet: where markup could reach outside; escaped text cannot be either. */
function markup(svg: string): string {
  return [...svg.matchAll(/<[^>]*>/g), ...svg.matchAll(/<style>([^<]*)<\/style>/g)].map((m) => m[1] ?? m[0]).join("\n");
}

/** The band rectangles as the SVG has them, in document order. */
function bandRects(svg: string): { status: string; x: number; width: number; y: number; height: number }[] {
  return [...svg.matchAll(/<rect class="band s-([a-z-]+)" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)">/g)].map((m) => ({
    status: m[1] ?? "",
    x: Number(m[2]),
    y: Number(m[3]),
    width: Number(m[4]),
    height: Number(m[5]),
  }));
}

describe("history chart: bands", () => {
  it("draws one band per state the history went through, each from its transition's time to the next one's", () => {
    const k = knownHistory();
    const layout = historyChartLayout(k.state, k.now);
    expect(layout.bands.map(({ status, from, to }) => ({ status, from, to }))).toEqual(k.bands);
    // The first kept transition is the left edge, now the right one.
    expect(layout.start).toBe(k.bands[0]?.from);
    expect(layout.end).toBe(k.now);
  });

  it("puts each band's x and width in the SVG exactly where its times fall on the axis", () => {
    const k = knownHistory();
    const svg = historyChartSvg(k.state, k.now);
    const rects = bandRects(svg);
    const start = k.bands[0]?.from ?? 0;
    const xOf = (t: number) => plotLeft + ((t - start) / (k.now - start)) * (plotRight - plotLeft);
    expect(rects.map((r) => r.status)).toEqual(k.bands.map((b) => b.status));
    k.bands.forEach((b, i) => {
      const r = rects[i];
      near(r?.x, xOf(b.from));
      near(r?.width, xOf(b.to) - xOf(b.from));
      expect(r?.y).toBe(bandTop);
      expect(r?.height).toBe(bandHeight);
    });
    // Abutting: no gap and no overlap between one state and the next.
    rects.slice(1).forEach((r, i) => near(r.x, (rects[i]?.x ?? 0) + (rects[i]?.width ?? 0), 0.011));
  });

  it("labels the open times and marks the failures and probes at their times", () => {
    const k = knownHistory();
    const svg = historyChartSvg(k.state, k.now);
    expect(svg).toContain(">open 60 s</text>");
    expect(svg).toContain(">open 2 min</text>");
    expect(svg).toContain(">forced 60 s</text>");
    const marks = historyChartLayout(k.state, k.now).marks.map((m) => [m.kind, (m.at - T0) / 1000]);
    expect(marks).toEqual([
      ["failure", 60],
      ["failure", 125],
      ["probe-failed", 125],
      ["probe-ok", 250],
      ["neutral", 360],
    ]);
  });

  it("draws a breaker that is open now up to now, then the rest of its open time as a dashed outline", () => {
    const policy = { ...DEFAULT_POLICY, trip: { kind: "consecutive" as const, threshold: 1 }, resetTimeoutMs: 60_000 };
    const a = acquire(initialState("api", T0), policy, T0, "p1");
    if (!a.decision.admitted) throw new Error("not admitted");
    const opened = record(a.state, policy, T0 + 60_000, a.decision.permit, { ok: false, durationMs: 1, error: "boom" }).state;
    // 40 s open, 20 s to go: short enough to draw beside the past.
    const now = T0 + 100_000;
    const layout = historyChartLayout(opened, now);
    expect(layout.bands.map((b) => [b.status, b.from, b.to])).toEqual([["open", T0 + 60_000, now]]);
    expect(layout.start).toBe(T0 + 60_000);
    expect(layout.end).toBe(T0 + 120_000);
    const width = plotRight - plotLeft;
    expect(layout.bands[0]?.width).toBeCloseTo((width * 2) / 3, 9);
    expect(layout.nextProbe?.at).toBe(T0 + 120_000);
    expect(layout.nextProbe?.x).toBeCloseTo(plotLeft + (width * 2) / 3, 9);
    expect(layout.nextProbe?.width).toBeCloseTo(width / 3, 9);
    expect(historyChartSvg(opened, now)).toContain("next probe 2026-11-28T12:02:00Z");
  });

  it("marks a probe still running at the time it was admitted", () => {
    const policy = { ...DEFAULT_POLICY, trip: { kind: "consecutive" as const, threshold: 1 }, resetTimeoutMs: 60_000 };
    const a = acquire(initialState("api", T0), policy, T0, "p1");
    if (!a.decision.admitted) throw new Error("not admitted");
    const opened = record(a.state, policy, T0 + 1000, a.decision.permit, { ok: false, durationMs: 1, error: "boom" }).state;
    const probing = acquire(opened, policy, T0 + 61_000, "probe-1", { expectedDurationMs: 60_000 }).state;
    const layout = historyChartLayout(probing, T0 + 71_000);
    expect(layout.marks.map((m) => [m.kind, m.at])).toEqual([
      ["failure", T0 + 1000],
      ["probe-running", T0 + 61_000],
    ]);
    expect(layout.bands.map((b) => [b.status, b.from, b.to])).toEqual([
      ["open", T0 + 1000, T0 + 61_000],
      ["half-open", T0 + 61_000, T0 + 71_000],
    ]);
  });

  it("says how long a forced open lasts without squeezing the past into a sliver", () => {
    const week = 7 * 24 * 3600_000;
    const state = trip(initialState("api", T0), DEFAULT_POLICY, T0 + 60_000, week);
    const layout = historyChartLayout(state, T0 + 120_000);
    expect(layout.end).toBe(T0 + 120_000);
    expect(layout.nextProbe).toMatchObject({ at: T0 + 60_000 + week, x: null });
    expect(historyChartSvg(state, T0 + 120_000)).toContain("trip ends 2026-12-05T12:01:00Z");
  });

  it("draws a breaker with no transitions as one band of its state", () => {
    const layout = historyChartLayout(initialState("api", T0), T0 + 10_000);
    expect(layout.bands.map((b) => [b.status, b.x, b.width])).toEqual([["closed", plotLeft, plotRight - plotLeft]]);
  });
});

describe("history chart: a file that shows only itself", () => {
  const hostile = `<script>alert(1)</script><a href="https://evil.example/">x</a>&amp; ' " <image href="http://x/y.png"/> style="fill:url(http://x/)"`;

  it("escapes breaker names, reasons and errors from state as XML text", () => {
    const k = knownHistory(`api"><script>alert(1)</script>`, hostile);
    const svg = historyChartSvg(k.state, k.now);
    expect(svg).not.toContain("<script");
    expect(svg).not.toContain("<a ");
    expect(svg).not.toContain("<image");
    expect(markup(svg)).not.toMatch(/href|url\(/i);
    expect(markup(svg)).not.toMatch(/\son[a-z]+\s*=/i);
    // The text is there, as text: in the title, the tooltips and the last-failure lines.
    expect(svg).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(svg).toContain("api&quot;&gt;&lt;script&gt;");
    expect(svg).toContain("&amp;amp;");
  });

  it("has no script, no external reference and no character XML forbids", () => {
    const k = knownHistory("api", `broken \u0000 output \ud800 and \u001b[31m colour`);
    const svg = historyChartSvg(k.state, k.now);
    expect(svg).not.toMatch(/<script/i);
    expect(svg).not.toMatch(/href/i);
    expect(svg).not.toMatch(/url\(/i);
    expect(svg).not.toMatch(/@import|@font-face/i);
    // The only address is the SVG namespace, which names and does not fetch.
    expect(svg.match(/https?:\/\/[^"]*/g)).toEqual(["http://www.w3.org/2000/svg"]);
    expect(svg).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/);
    expect(svg).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    expect(svg).toContain("@media (prefers-color-scheme: dark)");
  });

  it("xmlText: markup characters become entities, forbidden characters U+FFFD, pairs stay", () => {
    expect(xmlText(`<a b="c" d='e'>&</a>`)).toBe("&lt;a b=&quot;c&quot; d=&apos;e&apos;&gt;&amp;&lt;/a&gt;");
    expect(xmlText("a\u0000b\ud800c\udc00d\uffff")).toBe("a\ufffdb\ufffdc\ufffdd\ufffd");
    expect(xmlText("tab\tnew\nline 😀")).toBe("tab\tnew\nline 😀");
  });
});
