import { validateBreakerName } from "../../core/names.js";

/**
 * Where things live in Redis: one string key per breaker holding its serialised state, and one
 * set of breaker names so that "read every breaker" needs no SCAN over the whole keyspace.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  breaker(name: string): string {
    return `${this.prefix}breaker:${validateBreakerName(name)}`;
  }

  get names(): string {
    return `${this.prefix}breakers`;
  }
}
