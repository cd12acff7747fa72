import type { Redis } from "ioredis";
import { RedisCommandError } from "./errors.js";

/**
 * Everything the store sends to Redis. Replies are checked, never trusted; a command that
 * fails (connection lost, timeout, refused) rejects with RedisCommandError, so the store can
 * tell an unreachable Redis from a bug of its own.
 *
 * The two Lua scripts are deliberately dumb: they move text and compare it. Both are deliberately dumb: they move text and compare
 * it. Every breaker transition runs in Node through the pure core, so there is one
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
 * KEYS: breaker key, names set. ARGV: expected present ("1"/"0"), expected text, new text, name.
 * Reply: { 1 } on success, { 0, seconds, microseconds, current text or nil } on conflict.
 */
const COMPARE_AND_SET = `
local current = redis.call('GET', KEYS[1])
local same
if ARGV[1] == '1' then same = (current == ARGV[2]) else same = (current == false) end
if same then
  redis.call('SET', KEYS[1], ARGV[3])
  redis.call('SADD', KEYS[2], ARGV[4])
  return { 1 }
end
local t = redis.call('TIME')
return { 0, t[1], t[2], current }
`;

const SNAPSHOT_COMMAND = "circuitBreakerSnapshot";
const COMPARE_AND_SET_COMMAND = "circuitBreakerCompareAndSet";

export function defineScripts(redis: Redis): void {
  redis.defineCommand(SNAPSHOT_COMMAND, { lua: SNAPSHOT });
  redis.defineCommand(COMPARE_AND_SET_COMMAND, { numberOfKeys: 2, lua: COMPARE_AND_SET });
}

/** A defined script, called by name. */
async function call(redis: Redis, command: string, args: (string | number)[]): Promise<unknown> {
  const method: unknown = Reflect.get(redis, command);
  if (typeof method !== "function") throw new Error(`the Redis script ${command} was not defined on this connection`);
  try {
    return await (method as (...a: (string | number)[]) => Promise<unknown>).apply(redis, args);
  } catch (e) {
    throw new RedisCommandError(e);
  }
}

/** The names of every breaker ever written. */
export async function breakerNames(redis: Redis, namesKey: string): Promise<string[]> {
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

export async function snapshot(redis: Redis, keys: string[]): Promise<Snapshot> {
  const reply = await call(redis, SNAPSHOT_COMMAND, [keys.length, ...keys]);
  if (!Array.isArray(reply) || reply.length > keys.length + 2) throw unexpected("snapshot", reply);
  const values: unknown[] = reply;
  const now = serverTime(values[0], values[1], reply);
  const texts = keys.map((_, i) => textOrNull(values[i + 2], reply));
  return { now, texts };
}

export type CompareAndSetResult = { written: true } | { written: false; now: number; current: string | null };

export async function compareAndSet(
  redis: Redis,
  keys: { breaker: string; names: string },
  name: string,
  expected: string | null,
  next: string,
): Promise<CompareAndSetResult> {
  const reply = await call(redis, COMPARE_AND_SET_COMMAND, [
    keys.breaker,
    keys.names,
    expected === null ? "0" : "1",
    expected ?? "",
    next,
    name,
  ]);
  if (!Array.isArray(reply)) throw unexpected("compare-and-set", reply);
  const values: unknown[] = reply;
  if (values[0] === 1 && values.length === 1) return { written: true };
  if (values[0] === 0 && values.length >= 3 && values.length <= 4) {
    return { written: false, now: serverTime(values[1], values[2], reply), current: textOrNull(values[3], reply) };
  }
  throw unexpected("compare-and-set", reply);
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
