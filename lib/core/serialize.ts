import * as z from "zod/mini";
import { DEFAULT_POLICY, type BreakerPolicy } from "./policy.js";
import { STATE_VERSION, type BreakerState } from "./state.js";

// zod/mini keeps the state container's bundled program small.

/**
 * State is stored as JSON by every store. Reading it back is strict: a state that does not parse
 * is reported, never silently replaced, because replacing it would forget an open breaker.
 */

export class StateError extends Error {
  override name = "StateError";
  constructor(
    readonly breaker: string,
    readonly problem: "corrupt" | "unknown-version",
    detail: string,
  ) {
    super(
      `state of breaker "${breaker}" is ${problem === "corrupt" ? "unreadable" : "of an unknown version"}: ${detail}. ` +
        `Nothing was changed. Run \`reset --breaker ${breaker}\` to start it again from closed (its history and counters are lost).`,
    );
  }
}

const status = z.enum(["closed", "open", "half-open", "forced-open", "disabled"]);
const count = z.number().check(z.int(), z.nonnegative());
const time = z.number();

const permit = z.object({
  id: z.string(),
  breaker: z.string(),
  generation: count,
  probe: z.boolean(),
  issuedAt: time,
  expiresAt: z.nullable(time),
});

const trip = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("consecutive"), threshold: z.number().check(z.int(), z.positive()) }),
  z.object({
    kind: z.literal("failure-rate"),
    rate: z.number().check(z.gt(0), z.lte(1)),
    windowSize: z.number().check(z.int(), z.positive()),
    minimumCalls: z.number().check(z.int(), z.positive()),
  }),
  z.object({
    kind: z.literal("time-failure-rate"),
    rate: z.number().check(z.gt(0), z.lte(1)),
    windowMs: z.number().check(z.int(), z.positive()),
    minimumCalls: z.number().check(z.int(), z.positive()),
  }),
  z.object({
    kind: z.literal("failures-in-time"),
    threshold: z.number().check(z.int(), z.positive()),
    windowMs: z.number().check(z.int(), z.positive()),
  }),
]);

const rateLimit = z.object({ calls: z.number().check(z.int(), z.positive()), periodMs: z.number().check(z.int(), z.positive()) });
const retryBudget = z.object({
  ratio: z.number().check(z.gte(0)),
  minPerMinute: z.number().check(z.gte(0)),
  windowMs: z.number().check(z.int(), z.positive()),
});

const storedPolicy = z.object({
  trip,
  resetTimeoutMs: count,
  resetTimeoutMultiplier: z.number().check(z.gte(1)),
  maxResetTimeoutMs: count,
  halfOpenTimeoutMs: count,
  halfOpenMaxProbes: z.number().check(z.int(), z.positive()),
  successThreshold: z.number().check(z.int(), z.positive()),
  slowCallThresholdMs: z.nullable(count),
  ignoredExitCodes: z.array(z.number().check(z.int(), z.gte(0), z.lte(255))),
  historySize: z.number().check(z.int(), z.positive()),
  maxConcurrentCalls: z.optional(z.nullable(z.number().check(z.int(), z.positive()))),
  mode: z.optional(z.enum(["enforce", "observe"])),
  resetTimeoutJitter: z.optional(z.number().check(z.gte(0), z.lte(1))),
  rateLimit: z.optional(z.nullable(rateLimit)),
  retryBudget: z.optional(z.nullable(retryBudget)),
});

/** A policy stored before the concurrency, mode, jitter, rate-limit and budget keys existed reads as their defaults. */
export const policySchema = z.pipe(
  storedPolicy,
  z.transform(
    (policy): BreakerPolicy => ({
      ...policy,
      maxConcurrentCalls: policy.maxConcurrentCalls ?? DEFAULT_POLICY.maxConcurrentCalls,
      mode: policy.mode ?? DEFAULT_POLICY.mode,
      resetTimeoutJitter: policy.resetTimeoutJitter ?? DEFAULT_POLICY.resetTimeoutJitter,
      rateLimit: policy.rateLimit ?? DEFAULT_POLICY.rateLimit,
      retryBudget: policy.retryBudget ?? DEFAULT_POLICY.retryBudget,
    }),
  ),
);

export const permitSchema = permit;

const lastError = z.object({
  at: time,
  message: z.string(),
  exitCode: z.nullable(z.number().check(z.int())),
  rule: z.optional(z.nullable(z.string())),
});

const bucketStart = { start: time };
const outcomeBucket = z.object({ ...bucketStart, calls: count, failures: count });
const admissionBucket = z.object({ ...bucketStart, calls: count });
const retryBucket = z.object({ ...bucketStart, firsts: count, retries: count });

const stateSchema = z.object({
  version: z.literal(STATE_VERSION),
  name: z.string(),
  status,
  generation: count,
  since: time,
  consecutiveFailures: count,
  window: z.array(z.boolean()),
  outcomeBuckets: z.optional(z.array(outcomeBucket)),
  admissionBuckets: z.optional(z.array(admissionBucket)),
  retryBuckets: z.optional(z.array(retryBucket)),
  clockAt: z.optional(time),
  openUntil: z.nullable(time),
  reopenCount: count,
  forcedUntil: z.nullable(time),
  probeSuccesses: count,
  probesInFlight: z.array(permit),
  leases: z.optional(z.array(permit)),
  expiredPermits: z.array(z.string()),
  // Fields added after version 1 was first written are optional when read and filled in below.
  settledPermits: z.optional(z.array(z.string())),
  lastError: z.nullable(lastError),
  lastIgnored: z.optional(z.nullable(lastError)),
  openTimeSource: z.optional(z.nullable(z.string())),
  counters: z.object({
    admitted: count,
    successes: count,
    failures: count,
    ignored: count,
    cancelled: count,
    rejections: count,
    probes: count,
    expiredProbes: count,
    lateReports: count,
    stateChanges: count,
    limitRefusals: z.optional(count),
    expiredLeases: z.optional(count),
    wouldHaveRejected: z.optional(count),
    queuedCalls: z.optional(count),
    queueWaitMs: z.optional(count),
    rateLimitRefusals: z.optional(count),
    retries: z.optional(count),
    retryBudgetRefusals: z.optional(count),
    fallbacks: z.optional(count),
  }),
  history: z.array(z.object({ at: time, from: status, to: status, reason: z.string() })),
  policy: z.nullable(policySchema),
  updatedAt: time,
});

export function serializeState(state: BreakerState): string {
  return JSON.stringify(state);
}

/** Parses stored text for breaker `name`, or throws a StateError that says how to recover. */
export function parseState(text: string, name: string): BreakerState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new StateError(name, "corrupt", `not JSON (${(e as Error).message}; ${text.length} bytes)`);
  }
  if (typeof value === "object" && value !== null && "version" in value && value.version !== STATE_VERSION) {
    throw new StateError(
      name,
      "unknown-version",
      `found version ${JSON.stringify(value.version)}, this module reads version ${STATE_VERSION}`,
    );
  }
  const parsed = stateSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first ? `${first.path.join(".") || "(top level)"}: ${first.message}` : "invalid";
    throw new StateError(name, "corrupt", where);
  }
  if (parsed.data.name !== name) {
    throw new StateError(name, "corrupt", `it belongs to breaker "${parsed.data.name}"`);
  }
  const data = parsed.data;
  const error = (e: typeof data.lastError | undefined) => (e == null ? null : { ...e, rule: e.rule ?? null });
  const counters = data.counters;
  return {
    ...data,
    leases: data.leases ?? [],
    outcomeBuckets: data.outcomeBuckets ?? [],
    admissionBuckets: data.admissionBuckets ?? [],
    retryBuckets: data.retryBuckets ?? [],
    clockAt: data.clockAt ?? data.updatedAt,
    settledPermits: data.settledPermits ?? [],
    lastError: error(data.lastError),
    lastIgnored: error(data.lastIgnored),
    openTimeSource: data.openTimeSource ?? null,
    counters: {
      ...counters,
      limitRefusals: counters.limitRefusals ?? 0,
      expiredLeases: counters.expiredLeases ?? 0,
      wouldHaveRejected: counters.wouldHaveRejected ?? 0,
      queuedCalls: counters.queuedCalls ?? 0,
      queueWaitMs: counters.queueWaitMs ?? 0,
      rateLimitRefusals: counters.rateLimitRefusals ?? 0,
      retries: counters.retries ?? 0,
      retryBudgetRefusals: counters.retryBudgetRefusals ?? 0,
      fallbacks: counters.fallbacks ?? 0,
    },
  };
}
