// The double's state dir: content-addressed blobs and directory manifests, cache volume
// directories, lock files, the exec and function caches and the logs. Several double
// processes can share one state dir at once (as several `dagger call`s share one engine).
import { createHmac } from "node:crypto";
import {
  appendFileSync,
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join, posix, resolve } from "node:path";
import { canonicalJson, digestOf, randomHex, sha256, writeFileAtomic } from "../util.js";
import type { VolumeRef } from "./values.js";

export type Entry = { k: "f"; d: string; m: number } | { k: "d"; m: number } | { k: "l"; target: string };
/** Paths are relative, posix, without a leading slash. Directories are listed explicitly. */
export type Manifest = Record<string, Entry>;

export class StateDir {
  readonly root: string;
  private manifestCache = new Map<string, Manifest>();
  private hmacKey: Buffer | undefined;

  constructor(root: string) {
    this.root = resolve(root);
    for (const sub of ["blobs", "volumes", "locks", "exec-cache", "function-cache", "modules", "tmp"]) {
      mkdirSync(join(this.root, sub), { recursive: true });
    }
  }

  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  // ---- blobs -------------------------------------------------------------------------

  putBlob(data: Buffer | string): string {
    const buf = typeof data === "string" ? Buffer.from(data) : data;
    const digest = sha256(buf);
    const p = this.blobPath(digest);
    if (!existsSync(p)) writeFileAtomic(p, buf);
    return digest;
  }

  getBlob(digest: string): Buffer {
    const p = this.blobPath(digest);
    if (!existsSync(p)) throw new Error(`engine double: blob ${digest.slice(0, 12)} is missing from ${this.root}`);
    return readFileSync(p);
  }

  private blobPath(digest: string): string {
    if (!/^[0-9a-f]{64}$/.test(digest)) throw new Error(`engine double: bad blob digest ${digest}`);
    return join(this.root, "blobs", digest.slice(0, 2), digest);
  }

  putManifest(manifest: Manifest): string {
    const digest = this.putBlob(canonicalJson(manifest));
    this.manifestCache.set(digest, manifest);
    return digest;
  }

  getManifest(digest: string): Manifest {
    let m = this.manifestCache.get(digest);
    if (!m) {
      m = JSON.parse(this.getBlob(digest).toString("utf8")) as Manifest;
      this.manifestCache.set(digest, m);
    }
    return m;
  }

  // ---- host files and directories -----------------------------------------------------

  importHostFile(path: string): { blob: string; mode: number; name: string } {
    const abs = resolve(path);
    const st = statSync(abs);
    if (!st.isFile()) throw new Error(`engine double: ${abs} is not a file`);
    return { blob: this.putBlob(readFileSync(abs)), mode: st.mode & 0o777, name: posix.basename(abs) };
  }

  importHostDir(path: string, ignore: string[] = []): string {
    const abs = resolve(path);
    if (!statSync(abs).isDirectory()) throw new Error(`engine double: ${abs} is not a directory`);
    const matcher = patternMatcher(ignore);
    const manifest: Manifest = {};
    const walk = (dir: string, rel: string) => {
      for (const name of readdirSync(dir).sort()) {
        const relPath = rel ? `${rel}/${name}` : name;
        const full = join(dir, name);
        const st = lstatSync(full);
        const ignored = matcher(relPath);
        if (st.isDirectory() && !st.isSymbolicLink()) {
          if (ignored && !matcher.hasNegationUnder(relPath)) continue;
          const before = Object.keys(manifest).length;
          walk(full, relPath);
          if (!ignored || Object.keys(manifest).length > before) manifest[relPath] = { k: "d", m: st.mode & 0o777 };
        } else if (ignored) {
          continue;
        } else if (st.isSymbolicLink()) {
          manifest[relPath] = { k: "l", target: readlinkSync(full) };
        } else if (st.isFile()) {
          manifest[relPath] = { k: "f", d: this.putBlob(readFileSync(full)), m: st.mode & 0o777 };
        }
      }
    };
    walk(abs, "");
    return this.putManifest(manifest);
  }

  /** Write a manifest's files under dest (which must exist). */
  materialise(manifest: Manifest, dest: string): void {
    const paths = Object.keys(manifest).sort();
    for (const rel of paths) {
      const e = manifest[rel]!;
      const full = join(dest, rel);
      if (e.k === "d") mkdirSync(full, { recursive: true });
    }
    for (const rel of paths) {
      const e = manifest[rel]!;
      const full = join(dest, rel);
      if (e.k === "f") {
        mkdirSync(join(full, ".."), { recursive: true });
        writeFileSync(full, this.getBlob(e.d));
        chmodSync(full, e.m);
      } else if (e.k === "l") {
        mkdirSync(join(full, ".."), { recursive: true });
        symlinkSync(e.target, full);
      }
    }
    for (const rel of paths) {
      const e = manifest[rel]!;
      if (e.k === "d") chmodSync(join(dest, rel), e.m | 0o700);
    }
  }

  /** Read a host directory tree back into a manifest, skipping the excluded relative paths. */
  capture(dir: string, exclude: Set<string> = new Set(), prefix = ""): Manifest {
    const manifest: Manifest = {};
    const walk = (d: string, rel: string) => {
      for (const name of readdirSync(d).sort()) {
        const relPath = rel ? `${rel}/${name}` : name;
        const key = prefix ? `${prefix}/${relPath}` : relPath;
        if (exclude.has(key)) continue;
        const full = join(d, name);
        const st = lstatSync(full);
        if (st.isSymbolicLink()) manifest[key] = { k: "l", target: readlinkSync(full) };
        else if (st.isDirectory()) {
          manifest[key] = { k: "d", m: st.mode & 0o777 };
          walk(full, relPath);
        } else if (st.isFile()) manifest[key] = { k: "f", d: this.putBlob(readFileSync(full)), m: st.mode & 0o777 };
      }
    };
    walk(dir, "");
    return manifest;
  }

  // ---- cache volumes and locks ------------------------------------------------------

  volumeId(volume: VolumeRef): string {
    return digestOf({ namespace: volume.namespace, key: volume.key }).slice(0, 32);
  }

  volumeDir(volume: VolumeRef): string {
    const id = this.volumeId(volume);
    const dir = join(this.root, "volumes", id);
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true });
      writeFileAtomic(join(this.root, "volumes", `${id}.json`), JSON.stringify({ namespace: volume.namespace, key: volume.key }));
    }
    return dir;
  }

  lockFile(volume: VolumeRef): string {
    return join(this.root, "locks", `${this.volumeId(volume)}.lock`);
  }

  // ---- secrets ------------------------------------------------------------------------

  /** HMAC of a secret under a key private to this state dir (never the plaintext's plain hash). */
  secretDigest(name: string, plaintext: string): string {
    if (!this.hmacKey) {
      const p = join(this.root, "secret-key");
      if (!existsSync(p)) {
        try {
          writeFileSync(p, randomHex(32), { flag: "wx", mode: 0o600 });
        } catch {
          // another process created it first
        }
      }
      this.hmacKey = readFileSync(p);
    }
    return createHmac("sha256", this.hmacKey).update(`${name}\0${plaintext}`).digest("hex");
  }

  // ---- logs ---------------------------------------------------------------------------

  appendLog(file: string, record: unknown): void {
    // One write(2) per line on an O_APPEND file: lines from concurrent processes don't interleave.
    appendFileSync(join(this.root, file), `${JSON.stringify(record)}\n`);
  }

  readJson<T>(...parts: string[]): T | undefined {
    const p = join(this.root, ...parts);
    if (!existsSync(p)) return undefined;
    try {
      return JSON.parse(readFileSync(p, "utf8")) as T;
    } catch {
      return undefined;
    }
  }

  writeJson(value: unknown, ...parts: string[]): void {
    writeFileAtomic(join(this.root, ...parts), JSON.stringify(value));
  }
}

// ---- manifest helpers -----------------------------------------------------------------

export function normaliseRel(path: string): string {
  const n = posix.normalize(`/${path}`).replace(/^\/+/, "").replace(/\/+$/, "");
  return n === "." ? "" : n;
}

/** Entries directly under `rel` ("" for the root). */
export function listEntries(manifest: Manifest, rel: string): string[] {
  const prefix = rel ? `${rel}/` : "";
  const out = new Set<string>();
  for (const p of Object.keys(manifest)) {
    if (!p.startsWith(prefix) || p === rel) continue;
    const rest = p.slice(prefix.length);
    const first = rest.split("/")[0];
    if (first) out.add(first);
  }
  return [...out].sort();
}

/** The sub-tree at `rel`, re-rooted. */
export function subManifest(manifest: Manifest, rel: string): Manifest {
  if (!rel) return { ...manifest };
  const e = manifest[rel];
  if (!e || e.k !== "d") throw new Error(`engine double: ${rel}: no such directory`);
  const out: Manifest = {};
  const prefix = `${rel}/`;
  for (const [p, v] of Object.entries(manifest)) if (p.startsWith(prefix)) out[p.slice(prefix.length)] = v;
  return out;
}

/** Put `sub` at `rel` in `base` (replacing what was there), creating parent directories. */
export function mergeAt(base: Manifest, rel: string, sub: Manifest): Manifest {
  const out: Manifest = { ...base };
  ensureParents(out, rel ? `${rel}/x` : "x");
  if (rel && !out[rel]) out[rel] = { k: "d", m: 0o755 };
  for (const [p, v] of Object.entries(sub)) {
    const key = rel ? `${rel}/${p}` : p;
    out[key] = v;
  }
  return out;
}

export function ensureParents(manifest: Manifest, rel: string): void {
  const parts = rel.split("/");
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join("/");
    if (!manifest[dir]) manifest[dir] = { k: "d", m: 0o755 };
  }
}

export function removePath(manifest: Manifest, rel: string): Manifest {
  const out: Manifest = {};
  for (const [p, v] of Object.entries(manifest)) if (p !== rel && !p.startsWith(`${rel}/`)) out[p] = v;
  return out;
}

// ---- ignore patterns (dockerignore style, as Dagger's `ignore`/`exclude`) --------------------

interface Matcher {
  (rel: string): boolean;
  hasNegationUnder(rel: string): boolean;
}

export function patternMatcher(patterns: string[]): Matcher {
  const rules = patterns
    .map((p) => p.trim())
    .filter((p) => p && !p.startsWith("#"))
    .map((p) => {
      const negate = p.startsWith("!");
      const body = normaliseRel(negate ? p.slice(1) : p);
      return { negate, body, re: globToRegExp(body) };
    });
  const matches = (rel: string): boolean => {
    let excluded = false;
    for (const r of rules) {
      // A pattern matching a parent directory matches everything below it.
      const parts = rel.split("/");
      let hit = false;
      for (let i = parts.length; i >= 1 && !hit; i--) hit = r.re.test(parts.slice(0, i).join("/"));
      if (hit) excluded = !r.negate;
    }
    return excluded;
  };
  const fn = matches as Matcher;
  fn.hasNegationUnder = (rel: string) => rules.some((r) => r.negate && (r.body.startsWith(`${rel}/`) || r.body.startsWith("**")));
  return fn;
}

function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        re += glob[i + 2] === "/" ? "(?:.*/)?" : ".*";
        i += glob[i + 2] === "/" ? 2 : 1;
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}
