import { serializeState } from "../../core/serialize.js";
import type { BreakerState } from "../../core/state.js";
import { applyRequest, readStates, type WriteRequest } from "../apply.js";
import { planPrune, pruneResponse, type PruneRequest } from "../prune-plan.js";
import type { PruneResult, StateRequest, StateResponse } from "../request.js";
import type { StateStore } from "../state-store.js";
import { retryDelayMs } from "./backoff.js";
import {
  breakerNames,
  compareAndDelete,
  compareAndSet,
  compareAndSetAcknowledged,
  snapshot,
  type CompareAndSetResult,
  type CompareAndSetWrite,
  type DeleteItem,
} from "./commands.js";
import { RedisConnection } from "./connection.js";
import { Deadline } from "./deadline.js";
import {
  RedisAuthError,
  RedisCommandError,
  RedisConflictError,
  RedisReplicationError,
  RedisStoreClosedError,
  RedisUnavailableError,
  isAuthFailure,
} from "./errors.js";
import { admitUnprotected, allowUnbudgetedRetry, dropReport, isUnrecordedPermit } from "./fail-open.js";
import { RedisKeys } from "./keys.js";
import { showsApplied } from "./landed.js";
import { resolveOptions, type RedisStoreOptions, type ResolvedOptions } from "./options.js";
import { emptyStats, type RedisStoreStats } from "./stats.js";

/**
 * Breaker state in Redis, shared by runners on any number of machines.
 *
 * Each write request is an optimistic transaction: read the breaker's text together with the
 * server time (one round trip), apply the pure core in Node, then write with a compare-and-set
 * script that succeeds only if the text is still the one read (one round trip). A lost race is
 * redone, a bounded number of times. Nothing is locked, so a runner that dies mid-request, or
 * a workflow that runs for an hour between `acquire` and `record`, holds nothing up.
 *
 * The clock is Redis's (`TIME`), not this machine's. Runners on different machines share a
 * breaker, and their clocks disagree; with each runner's own clock, an open time or probe
 * deadline written by one runner would be judged by another's clock, and a runner whose clock
 * is a minute behind would keep a breaker open a minute longer. One server clock gives every
 * runner the same "now", and costs nothing: the time comes back in the same script as the
 * state. (If a failover swaps in a server whose clock is behind, the core already refuses to
 * let a backwards clock stretch a wait.)
 *
 * A request that times out may still have been applied: a write Redis received just before
 * the deadline completes even though its answer arrives too late. For an `acquire` that means
 * an admission counted with nobody holding the permit; a probe permit lost that way expires at
 * its deadline, like any probe whose runner crashed.
 *
 * Behind Sentinel or in a Cluster, a request that finds no primary (connection lost, refused,
 * READONLY from a demoted one, CLUSTERDOWN, a command that timed out) waits for the new one and
 * tries again, until `failoverTimeoutMs`. A write whose answer was lost is not applied twice:
 * when a retry finds the text that write would have left, it was that write (see the
 * compare-and-set script). With `minReplicas`, every write is followed by WAIT on the same
 * connection, and a write fewer replicas acknowledged in time fails the request: what a caller
 * is told happened is on the replicas a failover promotes.
 */
export class RedisStateStore implements StateStore {
  readonly description: string;
  private readonly settings: ResolvedOptions;
  private readonly keys: RedisKeys;
  private readonly connection: RedisConnection;
  private readonly counts = emptyStats();
  /** Why the latest try was redone while waiting for a primary, to explain a request that ran out of time. */
  private lastRetried: string | null = null;

  constructor(options: RedisStoreOptions) {
    this.settings = resolveOptions(options);
    this.keys = new RedisKeys(this.settings.prefix, this.settings.topology === "cluster");
    this.connection = new RedisConnection(options, this.settings);
    this.description = `Redis at ${this.settings.address} (key prefix "${this.settings.prefix}")`;
  }

  /** A copy of the counters, for benchmarks and diagnostics. */
  stats(): RedisStoreStats {
    return { ...this.counts };
  }

  get failurePolicy(): ResolvedOptions["failurePolicy"] {
    return this.settings.failurePolicy;
  }

  /** Disconnects. Requests in flight are rejected; later ones fail at once. */
  async close(): Promise<void> {
    this.connection.close();
  }

  async apply(request: StateRequest): Promise<StateResponse> {
    this.counts.requests += 1;
    // Nothing in Redis belongs to a permit issued without it, whatever the policy is now.
    if ((request.op === "record" || request.op === "cancel") && isUnrecordedPermit(request.permit)) {
      return dropReport(request, Date.now(), null);
    }
    if (this.connection.isClosed) throw new RedisStoreClosedError(this.settings.address);
    const breaker = request.op === "read" || request.op === "prune" ? null : request.breaker;
    // Names are checked before any network traffic: a bad name is the caller's mistake.
    if (breaker !== null) this.keys.breaker(breaker);
    const deadline = new Deadline(this.settings.failoverTimeoutMs ?? this.settings.timeoutMs);
    try {
      const work =
        request.op === "read"
          ? this.retrying(deadline, () => this.read(request.breakers, deadline))
          : request.op === "prune"
            ? this.retrying(deadline, () => this.prune(request, deadline))
            : this.write(request, deadline);
      return await deadline.race(work, () => new RedisCommandError(new Error(this.timeoutDetail())));
    } catch (e) {
      const failure = this.explain(e, request, breaker);
      if (failure instanceof RedisUnavailableError && this.settings.failurePolicy === "fail-open") {
        // The server's clock is out of reach, so these answers carry this machine's.
        const why = `Redis at ${this.settings.address} could not be used within ${failure.failoverTimeoutMs ?? failure.timeoutMs} ms (${failure.detail})`;
        if (request.op === "acquire") {
          this.counts.failedOpen += 1;
          return admitUnprotected(request, Date.now(), why);
        }
        if (request.op === "record" || request.op === "cancel") {
          this.counts.failedOpen += 1;
          return dropReport(request, Date.now(), why);
        }
        if (request.op === "retry") {
          this.counts.failedOpen += 1;
          return allowUnbudgetedRetry(request, Date.now(), why);
        }
      }
      throw failure;
    }
  }

  private timeoutDetail(): string {
    const reason = this.connection.reason ?? this.lastRetried;
    return reason ? `no answer; last error: ${reason}` : "no answer";
  }

  /** Turns a failure to talk to Redis into one of the store's errors; anything else is a bug and passes unchanged. */
  private explain(error: unknown, request: StateRequest, breaker: string | null): unknown {
    if (!(error instanceof RedisCommandError)) return error;
    if (isAuthFailure(error.cause)) return new RedisAuthError(this.settings.address, error.message);
    this.counts.unavailable += 1;
    // Only a failover is worth naming: another reply from Redis is reported as the answer it is.
    const waitedForPrimary = looksLikeFailover(error.cause) ? this.settings.failoverTimeoutMs : null;
    return new RedisUnavailableError(this.settings.address, this.settings.timeoutMs, request.op, breaker, error.message, waitedForPrimary);
  }

  /**
   * Whether a failed command is worth another try within the deadline: behind Sentinel or in a
   * Cluster, a lost or silent primary is what a failover looks like from here. One server has no
   * other primary to wait for, and a wrong password does not heal.
   */
  private retriable(error: unknown, deadline: Deadline): boolean {
    if (this.settings.failoverTimeoutMs === null || deadline.passed) return false;
    if (!(error instanceof RedisCommandError) || !looksLikeFailover(error.cause)) return false;
    this.lastRetried = error.message;
    // A command that timed out on a ready connection may be talking to a frozen primary that
    // has since been replaced: reconnecting asks the Sentinels (or the Cluster) afresh.
    if (/timed out/i.test(error.message)) this.connection.reconnect();
    return true;
  }

  /** Runs `work` until it succeeds or fails for a reason waiting cannot fix. */
  private async retrying<T>(deadline: Deadline, work: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await work();
      } catch (e) {
        if (!this.retriable(e, deadline)) throw e;
        this.counts.retried += 1;
        await deadline.sleep(failoverPollMs());
      }
    }
  }

  private async ready(deadline: Deadline): Promise<void> {
    try {
      await this.connection.ready(deadline.at);
    } catch (e) {
      throw new RedisCommandError(e);
    }
  }

  private async read(names: string[] | null, deadline: Deadline): Promise<StateResponse> {
    await this.ready(deadline);
    const breakers = names ?? (await breakerNames(this.connection.redis, this.keys.names)).sort();
    const snap = await snapshot(
      this.connection.redis,
      breakers.map((name) => this.keys.breaker(name)),
    );
    const entries = breakers.flatMap((breaker, i) => {
      const text = snap.texts[i] ?? null;
      return text === null ? [] : [{ breaker, text }];
    });
    return readStates(entries, snap.now);
  }

  /**
   * The key TTL for a state about to be written. A breaker tripped or disabled by hand is a
   * person's decision that nobody's calls refresh, so its key is written without expiry: a TTL
   * must no more undo it silently than a prune may. `reset` gives the key its TTL back.
   */
  private ttlFor(next: BreakerState): number | null {
    if (next.status === "forced-open" || next.status === "disabled") return null;
    return this.settings.keyTtlSeconds;
  }

  /**
   * Judges every breaker in the names set from one snapshot, then deletes the removable ones
   * with one compare-and-delete script: a breaker used after the snapshot holds other text, is
   * not deleted, and is reported as kept. Names whose key is gone (expired) leave the set.
   */
  private async prune(request: PruneRequest, deadline: Deadline): Promise<StateResponse> {
    await this.ready(deadline);
    const redis = this.connection.redis;
    const names = (await breakerNames(redis, this.keys.names)).sort();
    const keys = names.map((name) => this.keys.breaker(name));
    const snap = await snapshot(redis, keys);
    const entries = names.flatMap((breaker, i) => {
      const text = snap.texts[i] ?? null;
      return text === null ? [] : [{ breaker, text }];
    });
    const plan = planPrune(entries, snap.now, request.unusedForMs);
    const leftovers: PruneResult["leftovers"] = names
      .filter((_, i) => (snap.texts[i] ?? null) === null)
      .map((name) => ({ kind: "name-without-state", name }));
    if (request.dryRun) return pruneResponse(request, snap.now, plan, new Set(), leftovers);
    const items: DeleteItem[] = [
      ...plan.remove.map((c) => ({ name: c.breaker, key: this.keys.breaker(c.breaker), expected: c.text })),
      ...leftovers.map((l) => ({ name: l.name, key: this.keys.breaker(l.name), expected: null })),
    ];
    if (deadline.passed) throw new RedisCommandError(new Error(this.timeoutDetail()));
    const deleted = await compareAndDelete(redis, this.keys.names, items);
    const changed = new Set(plan.remove.filter((_, i) => !deleted[i]).map((c) => c.breaker));
    // A name that got a key meanwhile is a breaker in use again, not a leftover.
    const forgotten = leftovers.filter((_, i) => deleted[plan.remove.length + i]);
    return pruneResponse(request, snap.now, plan, changed, forgotten);
  }

  private async write(request: WriteRequest, deadline: Deadline): Promise<StateResponse> {
    const keys = { breaker: this.keys.breaker(request.breaker), names: this.keys.names };
    const readNow = async () => {
      if (deadline.passed) throw new RedisCommandError(new Error(this.timeoutDetail()));
      await this.ready(deadline);
      const snap = await snapshot(this.connection.redis, [keys.breaker]);
      return { now: snap.now, text: snap.texts[0] ?? null };
    };
    /**
     * The latest write sent. It may have landed although no answer said so: the answer was lost,
     * or the client resent it after a failover and the resend met the text it had left.
     */
    let sent: { response: StateResponse; ttlSeconds: number | null } | null = null;
    let seen: { now: number; text: string | null } | null = null;
    for (let attempt = 1; ; ) {
      try {
        seen ??= await readNow();
        let next: string;
        let response: StateResponse;
        let ttlSeconds: number | null;
        if (sent !== null && seen.text !== null && showsApplied(request, sent.response, seen.text)) {
          // The lost write landed. Writing the current text once more changes nothing, and lets
          // WAIT vouch for it (and whatever came after it) before the caller is told.
          next = seen.text;
          ({ response, ttlSeconds } = sent);
        } else {
          const applied = applyRequest(request, seen.text, seen.now);
          // Unreadable state is reported and left exactly as it is.
          if (applied.next === null) return applied.response;
          next = serializeState(applied.next);
          response = applied.response;
          ttlSeconds = this.ttlFor(applied.next);
        }
        if (deadline.passed) throw new RedisCommandError(new Error(this.timeoutDetail()));
        this.counts.writes += 1;
        sent = { response, ttlSeconds };
        const result = await this.send({ keys, name: request.breaker, expected: seen.text, next, ttlSeconds }, request, deadline);
        if (result.written) return response;
        this.counts.conflicts += 1;
        if (attempt >= this.settings.maxAttempts) {
          this.counts.exhausted += 1;
          throw new RedisConflictError(this.settings.address, request.breaker, attempt);
        }
        const delay = retryDelayMs(attempt);
        attempt += 1;
        if (delay === 0) {
          seen = { now: result.now, text: result.current };
        } else {
          await deadline.sleep(delay);
          seen = null;
        }
      } catch (e) {
        if (!this.retriable(e, deadline)) throw e;
        this.counts.retried += 1;
        seen = null;
        await deadline.sleep(failoverPollMs());
      }
    }
  }

  /**
   * One compare-and-set; with `minReplicas`, followed by WAIT on the same connection, and a write
   * acknowledged by too few replicas fails the request (it is not retried: the write is on the
   * primary, and a retry would only wait for the same replicas again).
   */
  private async send(write: CompareAndSetWrite, request: WriteRequest, deadline: Deadline): Promise<CompareAndSetResult> {
    const redis = this.connection.redis;
    const replicas = this.settings.minReplicas;
    if (replicas === 0) return compareAndSet(redis, write);
    // Inside the request's budget and short of the command timeout, so WAIT answers with its count.
    const waitMs = Math.floor(Math.min(this.settings.timeoutMs, deadline.remainingMs) * WAIT_SHARE);
    const { result, acknowledged } = await compareAndSetAcknowledged(redis, write, replicas, waitMs);
    if (result.written && acknowledged < replicas) {
      this.counts.underReplicated += 1;
      throw new RedisReplicationError(this.settings.address, request.op, request.breaker, acknowledged, replicas, Math.max(1, waitMs));
    }
    return result;
  }
}

/**
 * What a failover looks like from a client: no connection or no answer, or a reply that says
 * the node is not (or no longer, or not yet) the primary for the key. Any other reply from
 * Redis (CROSSSLOT, a script error, a wrong password) is an answer that waiting will not change.
 */
function looksLikeFailover(cause: unknown): boolean {
  if (!(cause instanceof Error)) return false;
  if (isAuthFailure(cause)) return false;
  if (cause.name !== "ReplyError") return true;
  return /^(READONLY|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|MOVED|ASK)\b/.test(cause.message);
}

/**
 * How long a request waits between tries while no primary answers: about 100 ms, spread so that
 * the runners that waited together do not all write at the same moment when the primary is back.
 */
function failoverPollMs(): number {
  return 50 + Math.random() * 100;
}
/** The share of the remaining budget a WAIT may use; the rest is for the round trip around it. */
const WAIT_SHARE = 0.8;
