/**
 * Outside text in a GFM table cell, as an inline code span. Inside a code span Markdown and
 * HTML mean nothing (no links, images, tags, emphasis, entities) and GitHub adds no autolinks,
 * mentions or issue references, which escaping punctuation one by one cannot promise: GitHub
 * also autolinks URLs after character references are decoded. Only two things still reach
 * through a code span in a table: backticks (the span is fenced with a longer run) and pipes,
 * which split cells before inline parsing and so are escaped as `\|`.
 */
import { oneLine } from "./one-line.js";

/** `text` as one code span that stays in its cell, at most `max` characters; "-" when empty. */
export function markdownCodeCell(text: string, max: number): string {
  const line = oneLine(text, max);
  if (line === "") return "-";
  const longestTicks = Math.max(0, ...Array.from(line.matchAll(/`+/g), (m) => m[0].length));
  const fence = "`".repeat(longestTicks + 1);
  // A GFM table reads `\x` as one escaped pair, so a pipe after an odd run of backslashes would
  // end up unescaped: one more backslash makes the pipe's own escape count (the cell then
  // shows that extra backslash, the price of keeping the row whole).
  const piped = line.replace(/(\\*)\|/g, (_m, slashes: string) => `${slashes}${slashes.length % 2 === 1 ? "\\" : ""}\\|`);
  // One space each side, which the renderer strips, lets the text start or end with a backtick.
  return `${fence} ${piped} ${fence}`;
}
