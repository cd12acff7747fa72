import type { BreakerView } from "../core/view.js";

/** The breaker refused the call; nothing was run. */
export class BreakerOpenError extends Error {
  override name = "BreakerOpenError";
  constructor(
    message: string,
    readonly view: BreakerView,
    readonly retryAt: number | null,
  ) {
    super(message);
  }
}

/** Every concurrency slot stayed taken for the whole queue timeout; nothing was run and nothing counts against the dependency. */
export class ConcurrencyLimitError extends BreakerOpenError {
  override name = "ConcurrencyLimitError";
  constructor(
    message: string,
    view: BreakerView,
    retryAt: number | null,
    readonly limit: { inUse: number; max: number },
  ) {
    super(message, view, retryAt);
  }
}

/** The rate limit's period stayed full for the whole queue timeout; nothing was run and nothing counts against the dependency. */
export class RateLimitError extends BreakerOpenError {
  override name = "RateLimitError";
  constructor(
    message: string,
    view: BreakerView,
    retryAt: number | null,
    readonly rateLimit: { used: number; max: number; periodMs: number },
  ) {
    super(message, view, retryAt);
  }
}

/**
 * A mistake of the caller (unknown workflow, bad config, bad arguments). It never counts
 * against a breaker: a permit taken before it is given back.
 */
export class CallerError extends Error {
  override name = "CallerError";
}

/** The breaker's stored state could not be read; the message says how to recover. */
export class StateUnreadableError extends Error {
  override name = "StateUnreadableError";
}
