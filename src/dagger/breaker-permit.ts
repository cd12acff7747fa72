import { func, object } from "@dagger.io/dagger";

/**
 * Permission to make one call through a breaker. Pass its `token` to `record` when the call
 * is done (or to `cancel` if it never ran); a probe permit that is never recorded expires
 * after its deadline and counts as a failure, as a crashed probe does.
 */
@object()
export class BreakerPermit {
  /** Unique id of this permit ("id" itself is reserved by the engine). */
  @func()
  permitId: string = "";

  /** The breaker that issued it. */
  @func()
  breaker: string = "";

  /** True when this call is a half-open probe that decides whether the breaker closes. */
  @func()
  probe: boolean = false;

  /** ISO time after which an unrecorded probe is taken for dead; empty for ordinary calls. */
  @func()
  expiresAt: string = "";

  /** The whole permit as text, to record it later from a shell with `record --permit`. */
  @func()
  token: string = "";
}
