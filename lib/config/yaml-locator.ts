/**
 * Maps key paths (as zod reports them) back to places in the YAML source, and places back to
 * key paths, so every config problem can name both a line:column and a key path.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from "yaml";
import type { ConfigPath } from "./config-error.js";

export interface SourcePosition {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

/**
 * Which spot to report for a path: the value ("value"), the key of the entry ("key", used for
 * unknown or badly named keys), or the map that holds the entry ("parent", used for missing keys).
 */
export type LocationTarget = "value" | "key" | "parent";

interface Located {
  node: Node | null;
  /** The key node when the last step of the path went through a map entry. */
  key: Node | null;
}

export class YamlLocator {
  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  position(offset: number): SourcePosition {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, column: col };
  }

  /**
   * Where `path` is in the source. When the path does not exist (a missing key), the deepest
   * existing ancestor is used, so a location is always returned.
   */
  locate(path: ConfigPath, target: LocationTarget = "value"): SourcePosition {
    const steps = target === "parent" ? path.slice(0, -1) : path;
    let current: Located = { node: this.deref(this.doc.contents as Node | null), key: null };
    let best = this.start(current.node) ?? 0;
    for (const segment of steps) {
      const next = this.child(current.node, segment);
      if (next === undefined) return this.position(best);
      current = next;
      best = this.start(current.node) ?? this.start(current.key) ?? best;
    }
    // A key with nothing after the colon parses as an empty scalar: point at the key instead.
    const empty = isScalar(current.node) && current.node.range?.[0] === current.node.range?.[1];
    if (target === "key" || empty) best = this.start(current.key) ?? best;
    return this.position(best);
  }

  /** The key path of the innermost node that contains `offset`; used to place YAML syntax errors. */
  pathAt(offset: number): ConfigPath {
    const path: ConfigPath = [];
    let node = this.deref(this.doc.contents as Node | null);
    for (;;) {
      if (isMap(node)) {
        const pair = node.items.find((p) => {
          const start = this.start(p.key as Node | null);
          const end = this.end(p.value as Node | null) ?? this.end(p.key as Node | null);
          return start !== undefined && end !== undefined && start <= offset && offset <= end;
        });
        if (pair === undefined || !isScalar(pair.key)) return path;
        path.push(String(pair.key.value));
        node = this.deref(pair.value as Node | null);
      } else if (isSeq(node)) {
        const index = node.items.findIndex((item) => {
          const start = this.start(item as Node | null);
          const end = this.end(item as Node | null);
          return start !== undefined && end !== undefined && start <= offset && offset <= end;
        });
        if (index < 0) return path;
        path.push(index);
        node = this.deref(node.items[index] as Node | null);
      } else {
        return path;
      }
    }
  }

  private child(node: Node | null, segment: string | number): Located | undefined {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (pair === undefined) return undefined;
      return { node: this.deref(pair.value as Node | null), key: pair.key as Node };
    }
    if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment];
      if (item === undefined) return undefined;
      const itemNode = this.deref(item as Node | null);
      return { node: itemNode, key: itemNode };
    }
    return undefined;
  }

  /** Follows `*alias` references to the anchored node, so paths walk through shared blocks. */
  private deref(node: Node | null): Node | null {
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? node;
    return node;
  }

  private start(node: Node | null | undefined): number | undefined {
    return node?.range?.[0];
  }

  private end(node: Node | null | undefined): number | undefined {
    return node?.range?.[2];
  }
}
