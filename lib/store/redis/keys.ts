import { validateBreakerName } from "../../core/names.js";

/**
 * Where things live in Redis: one string key per breaker holding its serialised state, and one
 * set of breaker names so that "read every breaker" needs no SCAN over the whole keyspace.
 *
 * Every script touches a breaker's key and the names set together. In a Cluster a script's keys
 * must share one hash slot, so there the prefix is a hash tag (`{circuit-breaker:}breaker:NAME`,
 * `{circuit-breaker:}breakers`): Redis hashes only what is between the braces, which puts all of
 * one installation's breakers in one slot, on one primary and its replicas. A single server or a
 * Sentinel-managed primary keeps the layout without braces, so state written before Cluster
 * support is read and written where it always was.
 */
export class RedisKeys {
  private readonly base: string;

  constructor(
    readonly prefix: string,
    readonly hashTag = false,
  ) {
    this.base = hashTag ? `{${prefix}}` : prefix;
  }

  breaker(name: string): string {
    return `${this.base}breaker:${validateBreakerName(name)}`;
  }

  get names(): string {
    return `${this.base}breakers`;
  }
}
