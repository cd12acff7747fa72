/**
 * Reads config/dagger.yaml text into a validated Config, or throws one ConfigError listing every
 * problem with its file, line, column and key path.
 */
import { isAlias, isMap, isSeq, LineCounter, parseDocument, visit, type Document, type YAMLError } from "yaml";
import { checkConfig } from "./config-checks.js";
import { ConfigError, type ConfigProblem } from "./config-error.js";
import { rememberSource } from "./config-source.js";
import { configSchema, type Config } from "./schema.js";
import { YamlLocator } from "./yaml-locator.js";
import { problemsFromIssues, type PathProblem } from "./zod-issues.js";

export function parseConfig(text: string, file: string): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const locator = new YamlLocator(doc, lineCounter);
  const locate = (problem: PathProblem): ConfigProblem => ({
    file,
    ...locator.locate(problem.path, problem.target),
    path: problem.path,
    message: problem.message,
  });

  if (doc.errors.length > 0) throw new ConfigError(syntaxProblems(doc.errors, locator, file));
  const contents = doc.contents;
  if (contents === null || (isScalarNull(contents) && contents.range?.[0] === contents.range?.[1])) {
    throw new ConfigError([
      { file, line: 1, column: 1, path: [], message: "the file is empty: add a workflows: map with at least one workflow" },
    ]);
  }
  if (!isMap(contents)) {
    const got = isSeq(contents) ? "a list" : `a single value`;
    throw new ConfigError([
      locate({
        path: [],
        target: "value",
        message: `the top level must be a map with the keys circuit_breaker, retry and workflows, got ${got}`,
      }),
    ]);
  }

  const data = toPlainData(doc, locator, file);
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) throw new ConfigError(problemsFromIssues(parsed.error.issues, data, configSchema).map(locate));
  const problems = checkConfig(parsed.data);
  if (problems.length > 0) throw new ConfigError(problems.map(locate));
  // Breaker templates are filled at call time; a variable missing then is located like this.
  rememberSource(parsed.data, locate);
  return parsed.data;
}

function isScalarNull(node: unknown): node is { value: null; range?: [number, number, number] | null } {
  return typeof node === "object" && node !== null && "value" in node && (node as { value: unknown }).value === null;
}

/** Extra advice for the YAML errors people hit most. */
const SYNTAX_HINTS: Partial<Record<YAMLError["code"], string>> = {
  TAB_AS_INDENT: "indent with spaces, not tabs",
  BAD_INDENT: "indent with spaces so that the keys of one map start in the same column",
  MISSING_CHAR: "add the missing character",
  BLOCK_AS_IMPLICIT_KEY: 'put a nested map on its own indented lines, or quote a value that contains ": "',
  MULTILINE_IMPLICIT_KEY: "a key must fit on one line; check for a missing colon or quote above",
};

function syntaxProblems(errors: readonly YAMLError[], locator: YamlLocator, file: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const linesSeen = new Set<number>();
  for (const error of errors) {
    const offset = error.pos[0];
    const { line, column } = locator.position(offset);
    // One YAML mistake often cascades into several errors on the same line; the first says it best.
    if (linesSeen.has(line)) continue;
    linesSeen.add(line);
    // Past the first document there is no key path to speak of.
    const path = error.code === "MULTIPLE_DOCS" ? [] : locator.pathAt(offset);
    problems.push({ file, line, column, path, message: syntaxMessage(error, path) });
  }
  return problems;
}

function syntaxMessage(error: YAMLError, path: readonly (string | number)[]): string {
  const text = error.message.charAt(0).toLowerCase() + error.message.slice(1);
  switch (error.code) {
    case "DUPLICATE_KEY": {
      const key = path[path.length - 1];
      const shown = key === undefined ? "this key" : `key ${JSON.stringify(String(key))}`;
      return `${shown} appears twice in the same map: remove or rename one of them`;
    }
    case "MULTIPLE_DOCS":
      return "the file holds more than one YAML document (a --- line): keep a single document";
    default: {
      const hint = SYNTAX_HINTS[error.code];
      return `YAML syntax error: ${text}${hint === undefined ? "" : `; ${hint}`}`;
    }
  }
}

/** The document as plain JS values; aliases that point nowhere become located problems. */
function toPlainData(doc: Document, locator: YamlLocator, file: string): unknown {
  try {
    // A small alias budget: a config has no business expanding into millions of nodes.
    return doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const problems: ConfigProblem[] = [];
    visit(doc, {
      Alias(_key, alias) {
        if (isAlias(alias) && alias.resolve(doc) === undefined && alias.range) {
          problems.push({
            file,
            ...locator.position(alias.range[0]),
            path: locator.pathAt(alias.range[0]),
            message: `alias *${alias.source} has no anchor &${alias.source} above it: define the anchor before using it`,
          });
        }
      },
    });
    if (problems.length === 0) {
      problems.push({ file, line: 1, column: 1, path: [], message: `the YAML could not be read: ${reason}` });
    }
    throw new ConfigError(problems);
  }
}
