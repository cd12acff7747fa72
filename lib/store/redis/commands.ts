import { createHash } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import { RedisCommandError } from "./errors.js";

/** A connection to one server or Sentinel-managed primary, or a Cluster client: they take the same commands. */
export type RedisClient = Redis | Cluster;

/**
 * Everything the store sends to Redis. Replies are checked, never trusted; a command that
 * fails (connection lost, timeout, refused) rejects with RedisCommandError, so the store can
 * tell an unreachable Redis from a bug of its own.
 *
 * The Lua scripts are deliberately dumb: they move text and compare it. Every breaker transition runs in Node through the pure core, so there is one
 * implementation of the state machine, not a second one in Lua.
 *
 * ioredis `defineCommand` sends them with EVALSHA and falls back to EVAL once when Redis does
 * not know the script yet (after a restart, for instance).
 */

/**
 * The server's clock and the current text of KEYS, in one atomic round trip, so the time a
 * transition is computed at belongs to the state it is computed from.
 * Reply: { seconds, microseconds, text-or-nil per key }.
 */
const SNAPSHOT = `
local t = redis.call('TIME')
local out = { t[1], t[2] }
for i, key in ipairs(KEYS) do
  out[i + 2] = redis.call('GET', key)
end
return out
`;

/**
 * Optimistic compare-and-set of one breaker: writes the new text only when the key still
 * holds exactly the text the transition was computed from (or is still absent). Comparing the
 * whole text rather than a version field needs no extra field in the state, and an equal text
 * means an equal state, so a write based on it is correct even if the key changed and changed
 * back in between. On a conflict it returns the server time and the text that won, so the
 * caller can retry without another read.
 * Writing the text a key already holds changes nothing but puts the key in the replication
 * stream after this connection's position, so a WAIT that follows covers it.
 * The key's expiry is set in the same script, so a written state never exists without it; a
 * plain SET also clears an expiry, which is what a write without a TTL should do.
 * KEYS: breaker key, names set. ARGV: expected present ("1"/"0"), expected text, new text, name,
 * key TTL in seconds ("0": none).
 * Reply: { 1 } on success, { 0, seconds, microseconds, current text or nil } on conflict.
 */
const COMPARE_AND_SET = `
local current = redis.call('GET', KEYS[1])
local same
if ARGV[1] == '1' then same = (current == ARGV[2]) else same = (current == false) end
if same then
  local ttl = tonumber(ARGV[5])
  if ttl > 0 then redis.call('SET', KEYS[1], ARGV[3], 'EX', ttl) else redis.call('SET', KEYS[1], ARGV[3]) end
  redis.call('SADD', KEYS[2], ARGV[4])
  return { 1 }
end
local t = redis.call('TIME')
return { 0, t[1], t[2], current }
`;

/**
 * Compare-and-delete for a prune: removes each breaker only if its key still holds exactly the
 * text that was judged removable, and its name from the names set; a name judged to have no
 * key is dropped from the set only if the key is still absent. One script for the whole batch,
 * each key compared and deleted with nothing in between.
 * KEYS: names set, then one breaker key per item. ARGV: per item, name, expected present
 * ("1"/"0"), expected text. Reply: per item, 1 when removed, 0 when the key had changed.
 */
const COMPARE_AND_DELETE = `
local out = {}
for i = 2, #KEYS do
  local base = (i - 2) * 3
  local current = redis.call('GET', KEYS[i])
  local same
  if ARGV[base + 2] == '1' then same = (current == ARGV[base + 3]) else same = (current == false) end
  if same then
    if current then redis.call('DEL', KEYS[i]) end
    redis.call('SREM', KEYS[1], ARGV[base + 1])
    out[i - 1] = 1
  else
    out[i - 1] = 0
  end
end
return out
`;

const SNAPSHOT_COMMAND = "circuitBreakerSnapshot";
const COMPARE_AND_SET_COMMAND = "circuitBreakerCompareAndSet";
const COMPARE_AND_DELETE_COMMAND = "circuitBreakerCompareAndDelete";

const COMPARE_AND_SET_SHA = createHash("sha1").update(COMPARE_AND_SET).digest("hex");

export function defineScripts(redis: RedisClient): void {
  redis.defineCommand(SNAPSHOT_COMMAND, { lua: SNAPSHOT });
  redis.defineCommand(COMPARE_AND_SET_COMMAND, { numberOfKeys: 2, lua: COMPARE_AND_SET });
  redis.defineCommand(COMPARE_AND_DELETE_COMMAND, { lua: COMPARE_AND_DELETE });
}

/** A defined script, called by name. */
async function call(redis: RedisClient, command: string, args: (string | number)[]): Promise<unknown> {
  const method: unknown = Reflect.get(redis, command);
  if (typeof method !== "function") throw new Error(`the Redis script ${command} was not defined on this connection`);
  try {
    return await (method as (...a: (string | number)[]) => Promise<unknown>).apply(redis, args);
  } catch (e) {
    throw new RedisCommandError(e);
  }
}

/** The names of every breaker ever written. */
export async function breakerNames(redis: RedisClient, namesKey: string): Promise<string[]> {
  let reply: unknown;
  try {
    reply = await redis.smembers(namesKey);
  } catch (e) {
    throw new RedisCommandError(e);
  }
  if (!Array.isArray(reply) || !reply.every((n): n is string => typeof n === "string")) throw unexpected("SMEMBERS", reply);
  return reply;
}

export interface Snapshot {
  /** Server time in milliseconds. */
  now: number;
  /** Stored text per requested key, in order; null where the key is absent. */
  texts: (string | null)[];
}

export async function snapshot(redis: RedisClient, keys: string[]): Promise<Snapshot> {
  const reply = await call(redis, SNAPSHOT_COMMAND, [keys.length, ...keys]);
  if (!Array.isArray(reply) || reply.length > keys.length + 2) throw unexpected("snapshot", reply);
  const values: unknown[] = reply;
  const now = serverTime(values[0], values[1], reply);
  const texts = keys.map((_, i) => textOrNull(values[i + 2], reply));
  return { now, texts };
}

export type CompareAndSetResult = { written: true } | { written: false; now: number; current: string | null };

export interface CompareAndSetWrite {
  keys: { breaker: string; names: string };
  name: string;
  expected: string | null;
  next: string;
  /** Seconds until the key expires; null: it never does. */
  ttlSeconds: number | null;
}

function compareAndSetArgs(write: CompareAndSetWrite): string[] {
  return [
    write.keys.breaker,
    write.keys.names,
    write.expected === null ? "0" : "1",
    write.expected ?? "",
    write.next,
    write.name,
    String(write.ttlSeconds ?? 0),
  ];
}

export async function compareAndSet(redis: RedisClient, write: CompareAndSetWrite): Promise<CompareAndSetResult> {
  return compareAndSetReply(await call(redis, COMPARE_AND_SET_COMMAND, compareAndSetArgs(write)));
}

/**
 * The compare-and-set followed by `WAIT replicas timeoutMs` in one pipeline: both go out in one
 * write on one connection, so the WAIT counts the replicas that have this very write (WAIT
 * covers the connection's own last write; sent after a reconnect it would vouch for nothing).
 * The script goes by EVALSHA, and by EVAL when the server does not know it yet.
 * Returns the compare-and-set's result and how many replicas acknowledged it.
 */
export async function compareAndSetAcknowledged(
  redis: RedisClient,
  write: CompareAndSetWrite,
  replicas: number,
  timeoutMs: number,
): Promise<{ result: CompareAndSetResult; acknowledged: number }> {
  const args = compareAndSetArgs(write);
  // WAIT 0 would block for ever: the limit is at least a millisecond.
  const waitMs = Math.max(1, Math.floor(timeoutMs));
  const send = async (bySha: boolean) => {
    const pipeline = redis.pipeline();
    if (bySha) pipeline.evalsha(COMPARE_AND_SET_SHA, 2, ...args);
    else pipeline.eval(COMPARE_AND_SET, 2, ...args);
    pipeline.wait(replicas, waitMs);
    try {
      return await pipeline.exec();
    } catch (e) {
      throw new RedisCommandError(e);
    }
  };
  let replies = await send(true);
  if (replies?.[0]?.[0]?.message.startsWith("NOSCRIPT")) replies = await send(false);
  const [cas, wait] = replies ?? [];
  if (!cas || !wait) throw unexpected("compare-and-set + WAIT", replies);
  if (cas[0]) throw new RedisCommandError(cas[0]);
  const result = compareAndSetReply(cas[1]);
  if (wait[0]) throw new RedisCommandError(wait[0]);
  if (typeof wait[1] !== "number") throw unexpected("WAIT", wait[1]);
  return { result, acknowledged: wait[1] };
}

function compareAndSetReply(reply: unknown): CompareAndSetResult {
  if (!Array.isArray(reply)) throw unexpected("compare-and-set", reply);
  const values: unknown[] = reply;
  if (values[0] === 1 && values.length === 1) return { written: true };
  if (values[0] === 0 && values.length >= 3 && values.length <= 4) {
    return { written: false, now: serverTime(values[1], values[2], reply), current: textOrNull(values[3], reply) };
  }
  throw unexpected("compare-and-set", reply);
}

export interface DeleteItem {
  name: string;
  key: string;
  /** The text judged; null: the key was judged absent (a name whose state expired). */
  expected: string | null;
}

/** Deletes the items whose keys still hold what was judged; returns, per item, whether it was deleted. */
export async function compareAndDelete(redis: RedisClient, namesKey: string, items: DeleteItem[]): Promise<boolean[]> {
  if (items.length === 0) return [];
  const args = items.flatMap((i) => [i.name, i.expected === null ? "0" : "1", i.expected ?? ""]);
  const reply = await call(redis, COMPARE_AND_DELETE_COMMAND, [items.length + 1, namesKey, ...items.map((i) => i.key), ...args]);
  if (!Array.isArray(reply) || reply.length !== items.length || !reply.every((r) => r === 0 || r === 1)) {
    throw unexpected("compare-and-delete", reply);
  }
  return reply.map((r) => r === 1);
}

/** Redis TIME is { unix seconds, microseconds } as decimal strings. */
function serverTime(seconds: unknown, micros: unknown, reply: unknown): number {
  const s = typeof seconds === "string" ? Number(seconds) : NaN;
  const us = typeof micros === "string" ? Number(micros) : NaN;
  if (!Number.isInteger(s) || !Number.isInteger(us)) throw unexpected("TIME", reply);
  return s * 1000 + Math.floor(us / 1000);
}

function textOrNull(value: unknown, reply: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw unexpected("GET", reply);
  return value;
}

function unexpected(what: string, reply: unknown): Error {
  return new Error(`Redis answered the ${what} script with something unexpected: ${JSON.stringify(reply)?.slice(0, 200)}`);
}
