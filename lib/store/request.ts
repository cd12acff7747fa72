import * as z from "zod/mini";
import type { CallOutcome } from "../core/outcome.js";
import type { BreakerPolicy } from "../core/policy.js";
import type { KeepReason } from "../core/prune.js";
import { permitSchema, policySchema } from "../core/serialize.js";
import type { BreakerState, Permit, Transition } from "../core/state.js";
import type { Decision, RecordEffect, RetryDecision } from "../core/transitions.js";

/**
 * A state operation as data, so that a store can run it wherever the state lives: inside a
 * container that holds the cache-volume lock, or next to Redis. Each request is applied
 * atomically: read, transition, write.
 */
export type StateRequest =
  | {
      op: "acquire";
      breaker: string;
      policy: BreakerPolicy;
      permitId: string;
      expectedDurationMs: number;
      /** How long the caller has waited for a concurrency slot so far. */
      waitedMs?: number;
      /** A draw in [0, 1) for open-time jitter, made by the caller so the core stays pure and tests seeded. */
      random?: number;
      /** The caller runs a fallback if refused. */
      fallback?: boolean;
    }
  | {
      op: "record";
      breaker: string;
      policy: BreakerPolicy;
      permit: Permit;
      outcome: CallOutcome;
      random?: number;
      /** The caller runs a fallback if this outcome is a failure. */
      fallback?: boolean;
    }
  /** Spends one retry of the breaker's retry budget, if it has one left. */
  | { op: "retry"; breaker: string; policy: BreakerPolicy }
  | { op: "cancel"; breaker: string; policy: BreakerPolicy; permit: Permit; random?: number }
  | { op: "reset"; breaker: string; policy: BreakerPolicy | null }
  | { op: "trip"; breaker: string; policy: BreakerPolicy | null; durationMs: number | null }
  | { op: "disable"; breaker: string; policy: BreakerPolicy | null }
  /** Reads the named breakers, or every breaker when `breakers` is null. */
  | { op: "read"; breakers: string[] | null }
  /**
   * Removes every breaker last used more than `unusedForMs` ago that nothing holds (see
   * `pruneVerdict`); with `dryRun`, only says what it would remove.
   */
  | { op: "prune"; unusedForMs: number; dryRun: boolean };

export interface StateProblem {
  breaker: string;
  message: string;
}

export interface StateResponse {
  /** The store's clock when the request was applied. */
  now: number;
  /** The affected breaker's state after the request, or the breakers read. */
  states: BreakerState[];
  decision?: Decision;
  effect?: RecordEffect;
  /** What the retry budget said (a `retry` request). */
  retry?: RetryDecision;
  /** The transitions this request made (a write request only); each is reported to exactly one caller. */
  transitions?: Transition[];
  /** Breakers whose state could not be read; nothing was written for them. */
  problems: StateProblem[];
  /**
   * Things a person should see although the request did not fail, e.g. a call let through
   * unprotected because the store was unreachable under a fail-open policy.
   */
  warnings?: string[];
  /** What a `prune` removed and kept; unreadable breakers are in `problems` and were left as they are. */
  prune?: PruneResult;
}

export interface PruneResult {
  dryRun: boolean;
  unusedForMs: number;
  /** Removed (with `dryRun`: would be removed), by name. */
  removed: { breaker: string; lastUsedAt: number }[];
  /** Every other readable breaker, by name, and why it stays. */
  kept: { breaker: string; lastUsedAt: number; reason: PruneKeepReason }[];
  /**
   * Things that were not breakers' states, cleaned up (with `dryRun`: found): Redis names whose
   * key no longer exists (expired by the key TTL), temporary files of a killed state writer.
   */
  leftovers: { kind: "name-without-state" | "temporary-file"; name: string }[];
}

/** A store may also keep a breaker it judged removable when the breaker was used while the prune ran. */
export type PruneKeepReason = KeepReason | { kind: "used-while-pruning" };

const breaker = z.string().check(z.minLength(1));
const outcome = z.object({
  ok: z.boolean(),
  durationMs: z.number().check(z.nonnegative()),
  exitCode: z.optional(z.nullable(z.number().check(z.int()))),
  error: z.optional(z.string()),
  classified: z.optional(z.object({ counts: z.boolean(), rule: z.string() })),
  retryAfter: z.optional(z.object({ ms: z.number().check(z.nonnegative()), source: z.string() })),
});

const random = z.optional(z.number().check(z.gte(0), z.lt(1)));

const requestSchema = z.discriminatedUnion("op", [
  z.object({
    op: z.literal("acquire"),
    breaker,
    policy: policySchema,
    permitId: z.string().check(z.minLength(1)),
    expectedDurationMs: z.number().check(z.nonnegative()),
    waitedMs: z.optional(z.number().check(z.nonnegative())),
    random,
    fallback: z.optional(z.boolean()),
  }),
  z.object({ op: z.literal("record"), breaker, policy: policySchema, permit: permitSchema, outcome, random, fallback: z.optional(z.boolean()) }),
  z.object({ op: z.literal("retry"), breaker, policy: policySchema }),
  z.object({ op: z.literal("cancel"), breaker, policy: policySchema, permit: permitSchema, random }),
  z.object({ op: z.literal("reset"), breaker, policy: z.nullable(policySchema) }),
  z.object({ op: z.literal("trip"), breaker, policy: z.nullable(policySchema), durationMs: z.nullable(z.number().check(z.nonnegative())) }),
  z.object({ op: z.literal("disable"), breaker, policy: z.nullable(policySchema) }),
  z.object({ op: z.literal("read"), breakers: z.nullable(z.array(breaker)) }),
  z.object({ op: z.literal("prune"), unusedForMs: z.number().check(z.int(), z.positive()), dryRun: z.boolean() }),
]);

/** Parses a request that crossed a process boundary. */
export function parseRequest(text: string): StateRequest {
  const parsed = requestSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid state request at ${issue?.path.join(".") ?? "?"}: ${issue?.message ?? "unknown"}`);
  }
  return parsed.data;
}
