/**
 * Text from outside the module (breaker names, transition reasons, error output) made safe to
 * put in an SVG or any XML document, as element text or as a quoted attribute value: markup
 * characters become entities, so the text cannot open an element (a <script>, an <a href>) or
 * leave its attribute; and what XML 1.0 forbids outright (controls other than tab and
 * newlines, lone surrogates, U+FFFE and U+FFFF) becomes U+FFFD, because one such character
 * makes the whole document unreadable to a browser.
 */
const ENTITY: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

// Lone surrogates are matched by the pairs' absence: a high one not followed by a low one, a
// low one not preceded by a high one.
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function xmlText(text: string): string {
  return text.replace(NOT_XML, "\ufffd").replace(/[&<>"']/g, (c) => ENTITY[c] ?? c);
}
