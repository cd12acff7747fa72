/**
 * Outside text (an error's output, a problem's message) made fit for one line of a report:
 * control characters and newlines would end a table row or a line, and bidirectional
 * overrides (U+202A-U+202E, U+2066-U+2069) would make the text read differently from what it
 * is, so each becomes a space; runs of space become one.
 */
// C0 and C1 controls (tab and newlines included), DEL, the bidi embeddings, overrides and
// isolates, and the line and paragraph separators.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });

/**
 * One line of at most `max` user-perceived characters, cut with an ellipsis. Counted in
 * graphemes, so a cut never splits a surrogate pair, an emoji sequence or a combining accent.
 */
export function oneLine(text: string, max: number): string {
  const line = text.replace(UNSAFE, " ").replace(/\s+/gu, " ").trim();
  const parts = Array.from(graphemes.segment(line), (s) => s.segment);
  return parts.length > max ? `${parts.slice(0, max - 1).join("").trimEnd()}…` : line;
}
