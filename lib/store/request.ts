import * as z from "zod/mini";
import type { CallOutcome } from "../core/outcome.js";
import type { BreakerPolicy } from "../core/policy.js";
import { permitSchema, policySchema } from "../core/serialize.js";
import type { BreakerState, Permit } from "../core/state.js";
import type { Decision, RecordEffect } from "../core/transitions.js";

/**
 * A state operation as data, so that a store can run it wherever the state lives: inside a
 * container that holds the cache-volume lock, or next to Redis. Each request is applied
 * atomically: read, transition, write.
 */
export type StateRequest =
  | { op: "acquire"; breaker: string; policy: BreakerPolicy; permitId: string; expectedDurationMs: number }
  | { op: "record"; breaker: string; policy: BreakerPolicy; permit: Permit; outcome: CallOutcome }
  | { op: "cancel"; breaker: string; policy: BreakerPolicy; permit: Permit }
  | { op: "reset"; breaker: string; policy: BreakerPolicy | null }
  | { op: "trip"; breaker: string; policy: BreakerPolicy | null; durationMs: number | null }
  | { op: "disable"; breaker: string; policy: BreakerPolicy | null }
  /** Reads the named breakers, or every breaker when `breakers` is null. */
  | { op: "read"; breakers: string[] | null };

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
  /** Breakers whose state could not be read; nothing was written for them. */
  problems: StateProblem[];
  /**
   * Things a person should see although the request did not fail, e.g. a call let through
   * unprotected because the store was unreachable under a fail-open policy.
   */
  warnings?: string[];
}

const breaker = z.string().check(z.minLength(1));
const outcome = z.object({
  ok: z.boolean(),
  durationMs: z.number().check(z.nonnegative()),
  exitCode: z.optional(z.nullable(z.number().check(z.int()))),
  error: z.optional(z.string()),
  classified: z.optional(z.object({ counts: z.boolean(), rule: z.string() })),
  retryAfter: z.optional(z.object({ ms: z.number().check(z.nonnegative()), source: z.string() })),
});

const requestSchema = z.discriminatedUnion("op", [
  z.object({ op: z.literal("acquire"), breaker, policy: policySchema, permitId: z.string().check(z.minLength(1)), expectedDurationMs: z.number().check(z.nonnegative()) }),
  z.object({ op: z.literal("record"), breaker, policy: policySchema, permit: permitSchema, outcome }),
  z.object({ op: z.literal("cancel"), breaker, policy: policySchema, permit: permitSchema }),
  z.object({ op: z.literal("reset"), breaker, policy: z.nullable(policySchema) }),
  z.object({ op: z.literal("trip"), breaker, policy: z.nullable(policySchema), durationMs: z.nullable(z.number().check(z.nonnegative())) }),
  z.object({ op: z.literal("disable"), breaker, policy: z.nullable(policySchema) }),
  z.object({ op: z.literal("read"), breakers: z.nullable(z.array(breaker)) }),
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
