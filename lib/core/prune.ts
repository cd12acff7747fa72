import type { BreakerState, Permit } from "./state.js";

/**
 * Why a prune leaves a breaker in place. Age is judged first; the other reasons protect an old
 * breaker that someone still relies on: a person's trip or disable (a prune must not silently
 * undo it), calls still holding a probe slot or a concurrency slot, and an open time still
 * running (removing it would let calls through to a service that just failed).
 */
export type KeepReason =
  | { kind: "recently-used" }
  | { kind: "forced-open"; until: number | null }
  | { kind: "disabled" }
  | { kind: "probes-in-flight"; count: number; overdueSince: number | null }
  | { kind: "leases"; count: number; overdueSince: number | null }
  | { kind: "open"; until: number };

export type PruneVerdict = { remove: true } | { remove: false; keep: KeepReason };

/**
 * Whether a prune at `now` removes this breaker: only when its state was last used (any
 * acquire, record, cancel, reset, trip or disable) more than `unusedForMs` ago and nothing
 * else holds it. Every store asks this one function, so they all decide alike.
 */
export function pruneVerdict(state: BreakerState, now: number, unusedForMs: number): PruneVerdict {
  // A clock that went backwards makes the age negative: recent, so kept.
  if (now - state.updatedAt <= unusedForMs) return { remove: false, keep: { kind: "recently-used" } };
  const held = heldBy(state, now);
  return held === null ? { remove: true } : { remove: false, keep: held };
}

/** What, other than recent use, keeps a breaker from being removed; null when nothing does. */
export function heldBy(state: BreakerState, now: number): Exclude<KeepReason, { kind: "recently-used" }> | null {
  if (state.status === "forced-open") return { kind: "forced-open", until: state.forcedUntil };
  if (state.status === "disabled") return { kind: "disabled" };
  if (state.probesInFlight.length > 0) {
    return { kind: "probes-in-flight", count: state.probesInFlight.length, overdueSince: overdueSince(state.probesInFlight, now) };
  }
  if (state.leases.length > 0) return { kind: "leases", count: state.leases.length, overdueSince: overdueSince(state.leases, now) };
  if (state.status === "open" && state.openUntil !== null && state.openUntil > now) return { kind: "open", until: state.openUntil };
  return null;
}

/** When the earliest of these permits passed its deadline, so a person can see a dead holder; null if none has. */
function overdueSince(permits: Permit[], now: number): number | null {
  const passed = permits.flatMap((p) => (p.expiresAt !== null && p.expiresAt <= now ? [p.expiresAt] : []));
  return passed.length === 0 ? null : Math.min(...passed);
}
