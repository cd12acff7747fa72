// Small helpers shared by the engine double: hashing, canonical JSON, atomic writes, names.
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository that holds double/ (one level up from this file). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

/** JSON with object keys sorted, so equal values always serialise to equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export function digestOf(value: unknown): string {
  return sha256(canonicalJson(value));
}

export function randomHex(bytes = 16): string {
  return randomBytes(bytes).toString("hex");
}

/** Write a file so that concurrent readers never see a half-written file. */
export function writeFileAtomic(path: string, data: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomHex(4)}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** `incrementNoBuster` -> `increment-no-buster`, `HTTPPort` -> `http-port`. */
export function toKebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1-$2")
    .replace(/_/g, "-")
    .toLowerCase();
}

/** `increment-no-buster` -> `incrementNoBuster`. */
export function toCamel(name: string): string {
  return name.replace(/[-_]+([a-zA-Z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/**
 * PascalCase as the TypeScript SDK computes a module's main object name from its
 * dagger.json name (same splitting rules: word boundaries at capitals, digits and
 * non-alphanumerics; each word capitalised, the rest lower-cased).
 */
export function toPascal(input: string): string {
  return input
    .split(/(?=[A-Z0-9])|[^a-zA-Z0-9]|(?<=[a-zA-Z])(?=\d)|(?<=\d)(?=[a-zA-Z])/g)
    .filter((w) => w.length > 0)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())
    .join("");
}

/** Go-style duration ("7d" is not Go, but accepted): "90s", "10m", "1h30m", "24h". */
export function parseDurationMs(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(re)) {
    const n = Number(m[1]);
    const unit = m[2];
    const factor = unit === "ms" ? 1 : unit === "s" ? 1000 : unit === "m" ? 60_000 : unit === "h" ? 3_600_000 : 86_400_000;
    total += n * factor;
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== text.trim().length) return undefined;
  return total;
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
  settled: boolean;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const d: Deferred<T> = {
    promise,
    settled: false,
    resolve(v) {
      if (d.settled) return;
      d.settled = true;
      resolve(v);
    },
    reject(e) {
      if (d.settled) return;
      d.settled = true;
      reject(e);
    },
  };
  promise.catch(() => undefined);
  return d;
}

/**
 * The GraphQL name the engine gives a registered function or argument name (its
 * `strcase.ToLowerCamel`): separators `_ - . space` dropped with the next letter capitalised,
 * first letter lower-cased. `circuitBreakerRun_fallback` -> `circuitBreakerRunFallback`.
 * The module itself is still invoked with the name it registered.
 */
export function gqlName(name: string): string {
  const joined = name.replace(/[-_.\s]+([a-zA-Z0-9])/g, (_m, c: string) => c.toUpperCase()).replace(/[-_.\s]+$/, "");
  return joined.charAt(0).toLowerCase() + joined.slice(1);
}

/** The GraphQL name of a module's main object or of a module's object: PascalCase. */
export function gqlObjectName(name: string): string {
  const camel = gqlName(name);
  return camel.charAt(0).toUpperCase() + camel.slice(1);
}
