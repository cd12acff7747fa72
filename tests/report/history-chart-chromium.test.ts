/**
 * The history chart as a browser draws it: headless Chromium (Debian's chromium package, which
 * .ci/run installs, driven by playwright-core, which never downloads a browser of its own)
 * renders a known history in the light and the dark colour scheme, and the screenshot's pixels
 * must show each state's colour where the history puts it, edge to edge. Without
 * /usr/bin/chromium the test is skipped locally, with the reason in its name, and fails in CI.
 */
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import type { Status } from "../../lib/core/state.js";
import { CHART_COLOURS, CHART_GEOMETRY, historyChartSvg } from "../../lib/report/history-chart.js";
import { knownHistory } from "../helpers/chart-history.js";

const CHROMIUM = "/usr/bin/chromium";
const installed = existsSync(CHROMIUM);
const inCi = process.env.CI === "true";
const reason = installed ? "" : ` (SKIPPED: ${CHROMIUM} not found; apt-get install chromium, as .ci/run does)`;
// The default reporter counts skipped tests without naming them: say why where it shows.
if (!installed && !inCi) console.warn(`history chart not rendered in a browser${reason}`);

type Rgb = [number, number, number];

function rgb(hex: string): Rgb {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function distance(a: Rgb, b: Rgb): number {
  return Math.max(Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1]), Math.abs(a[2] - b[2]));
}

function pixel(png: PNG, x: number, y: number): Rgb {
  const i = (png.width * y + x) * 4;
  return [png.data[i] ?? -1, png.data[i + 1] ?? -1, png.data[i + 2] ?? -1];
}

/** The runs of state colour along one row of the plot: which state, from which pixel to which (exclusive). */
function runs(png: PNG, y: number, palette: Record<Status, string>): { status: Status; from: number; to: number }[] {
  const colours = Object.entries(palette).map(([status, hex]) => ({ status: status as Status, rgb: rgb(hex) }));
  const out: { status: Status; from: number; to: number }[] = [];
  for (let x = CHART_GEOMETRY.plotLeft; x < CHART_GEOMETRY.plotRight; x += 1) {
    const p = pixel(png, x, y);
    // A pixel an edge runs through is a blend of two bands' colours, which can look like a
    // third state's: only a pixel of one state's own colour counts.
    const match = colours.find((c) => distance(p, c.rgb) <= 8);
    if (match === undefined) continue;
    const last = out.at(-1);
    if (last?.status === match.status) last.to = x + 1;
    else out.push({ status: match.status, from: x, to: x + 1 });
  }
  return out;
}

const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

describe("history chart, rendered by headless Chromium", () => {
  it.runIf(!installed && inCi)("CI has chromium (.ci/run installs Debian's chromium package)", () => {
    expect.fail(`${CHROMIUM} is missing in CI: .ci/run should have installed the chromium package`);
  });

  it.skipIf(!installed)(
    `each state's colour lies where the history puts it, in the light and the dark scheme${reason}`,
    async () => {
      const k = knownHistory();
      const svg = historyChartSvg(k.state, k.now);
      const { width, height, plotLeft, plotRight, bandTop, bandHeight } = CHART_GEOMETRY;
      const start = k.bands[0]?.from ?? 0;
      const xOf = (t: number) => plotLeft + ((t - start) / (k.now - start)) * (plotRight - plotLeft);
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
      try {
        const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 1 });
        // Self-contained: the picture asks for nothing, so every request is refused and counted.
        const requests: string[] = [];
        await page.route("**/*", (route) => {
          requests.push(route.request().url());
          return route.abort();
        });
        // As a file of its own, the way `export` saves it: an XML error would show instead of bands.
        await page.goto(`data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}`);
        for (const colorScheme of ["light", "dark"] as const) {
          await page.emulateMedia({ colorScheme });
          const png = PNG.sync.read(await page.screenshot({ type: "png" }));
          const palette = CHART_COLOURS[colorScheme];
          expect(distance(pixel(png, 2, 2), rgb(palette.background)), `${colorScheme} background`).toBeLessThanOrEqual(2);
          for (const y of [bandTop + 2, bandTop + bandHeight / 2, bandTop + bandHeight - 3]) {
            const seen = runs(png, y, palette.states);
            expect(seen.map((r) => r.status), `${colorScheme}, row ${y}`).toEqual(k.bands.map((b) => b.status));
            seen.forEach((r, i) => {
              const band = k.bands[i];
              if (band === undefined) return;
              // Within a pixel of where the band's times fall, on both edges.
              expect(Math.abs(r.from - xOf(band.from)), `${colorScheme} ${band.status} #${i} left edge`).toBeLessThanOrEqual(1);
              expect(Math.abs(r.to - xOf(band.to)), `${colorScheme} ${band.status} #${i} right edge`).toBeLessThanOrEqual(1);
              // And the colour itself, not only the nearest one, inside the band.
              const mid = Math.floor(xOf((band.from + band.to) / 2));
              expect(distance(pixel(png, mid, y), rgb(palette.states[band.status])), `${colorScheme} ${band.status} #${i} colour`).toBeLessThanOrEqual(2);
            });
          }
        }
        expect(requests).toEqual([]);
      } finally {
        await browser.close();
      }
    },
    30_000,
  );
});
