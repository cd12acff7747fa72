/**
 * Checks that PromQL queries (a dashboard's panels, a rules file's expressions) name only
 * metrics, labels and label values that exist, reading each query with Prometheus's own PromQL
 * grammar (@prometheus-io/lezer-promql) rather than guessing names with regular expressions.
 */
import { parser } from "@prometheus-io/lezer-promql";

type SyntaxNode = ReturnType<typeof parser.parse>["topNode"];

/** metric name -> label name -> the values seen for it. */
export type KnownSeries = Map<string, Map<string, Set<string>>>;

/** Labels whose values are a fixed set, so a misspelt value (state="opne") would match nothing. */
const CLOSED_LABELS = new Set(["state", "outcome"]);

/** Prometheus text as parsed by parse-prometheus-text-format. */
export interface ParsedFamily {
  name: string;
  metrics: { labels?: Record<string, string> }[];
}

export function knownFromFamilies(families: ParsedFamily[]): KnownSeries {
  const known: KnownSeries = new Map();
  for (const f of families) {
    const labels = new Map<string, Set<string>>();
    for (const m of f.metrics) {
      for (const [k, v] of Object.entries(m.labels ?? {})) labels.set(k, (labels.get(k) ?? new Set()).add(v));
    }
    known.set(f.name, labels);
  }
  return known;
}

function unquote(literal: string): string {
  if (literal.startsWith("`")) return literal.slice(1, -1);
  if (literal.startsWith("'")) return literal.slice(1, -1).replace(/\\'/g, "'");
  return JSON.parse(literal) as string;
}

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c !== null; c = c.nextSibling) out.push(c);
  return out;
}

function descendants(node: SyntaxNode, name: string): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  const walk = (n: SyntaxNode) => {
    if (n.name === name) out.push(n);
    for (const c of children(n)) walk(c);
  };
  walk(node);
  return out;
}

export interface QueryNames {
  problems: string[];
  /** Labels of the series the query returns, when it groups with `by (...)` (for recording rules). */
  groupedBy: string[];
  /** Metrics the query selects. */
  metrics: string[];
}

/** What is wrong with the names in `query` (empty when it is all right), and what it selects. */
export function checkQuery(query: string, known: KnownSeries): QueryNames {
  const tree = parser.parse(query);
  const problems: string[] = [];
  const text = (n: SyntaxNode) => query.slice(n.from, n.to);
  tree.iterate({
    enter: (n) => {
      if (n.type.isError) problems.push(`does not parse at offset ${n.from}: ${JSON.stringify(query.slice(n.from, n.from + 20))}`);
    },
  });
  const top = tree.topNode;
  const metrics: string[] = [];
  for (const selector of descendants(top, "VectorSelector")) {
    const identifier = children(selector).find((c) => c.name === "Identifier");
    if (identifier === undefined) {
      problems.push(`${text(selector)} names no metric`);
      continue;
    }
    const metric = text(identifier);
    metrics.push(metric);
    const labels = known.get(metric);
    if (labels === undefined) {
      problems.push(`metric ${metric} is not emitted`);
      continue;
    }
    for (const matcher of [...descendants(selector, "UnquotedLabelMatcher"), ...descendants(selector, "QuotedLabelMatcher")]) {
      const [nameNode, opNode, valueNode] = children(matcher);
      if (nameNode === undefined || opNode === undefined || valueNode === undefined) continue;
      const label = nameNode.name === "QuotedLabelName" ? unquote(text(nameNode)) : text(nameNode);
      const values = labels.get(label);
      if (values === undefined) {
        problems.push(`${metric} has no label ${label}`);
        continue;
      }
      if (!CLOSED_LABELS.has(label)) continue;
      const value = unquote(text(valueNode));
      const op = opNode.firstChild?.name;
      // A plain alternation (open|half-open) is checked alternative by alternative.
      const wanted = op === "EqlSingle" || op === "Neq" ? [value] : /^[\w|-]+$/.test(value) ? value.split("|") : [];
      for (const w of wanted) if (!values.has(w)) problems.push(`${metric}{${label}} is never ${JSON.stringify(w)}`);
    }
  }
  const everyLabel = new Set(metrics.flatMap((m) => [...(known.get(m)?.keys() ?? [])]));
  const groupedBy: string[] = [];
  for (const grouping of descendants(top, "GroupingLabels")) {
    const byClause = grouping.prevSibling?.name === "By";
    for (const labelNode of children(grouping).filter((c) => c.name === "LabelName" || c.name === "QuotedLabelName")) {
      const label = labelNode.name === "QuotedLabelName" ? unquote(text(labelNode)) : text(labelNode);
      if (!everyLabel.has(label)) problems.push(`groups by ${label}, which no metric of the query has`);
      if (byClause) groupedBy.push(label);
    }
  }
  return { problems, groupedBy: [...new Set(groupedBy)], metrics };
}

/**
 * Adds a recording rule's output to `known`: its labels are those it groups by, or without a
 * `by` those of the metrics it reads, with the values seen on them.
 */
export function addRecordingRule(known: KnownSeries, record: string, names: QueryNames): void {
  const labels = new Map<string, Set<string>>();
  const keep = names.groupedBy.length > 0 ? names.groupedBy : names.metrics.flatMap((m) => [...(known.get(m)?.keys() ?? [])]);
  for (const label of keep) {
    for (const m of names.metrics) {
      const values = known.get(m)?.get(label);
      if (values) labels.set(label, new Set([...(labels.get(label) ?? []), ...values]));
    }
  }
  known.set(record, labels);
}
