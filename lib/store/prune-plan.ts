import { pruneVerdict } from "../core/prune.js";
import { parseState, StateError } from "../core/serialize.js";
import type { BreakerState } from "../core/state.js";
import type { PruneResult, StateProblem, StateRequest, StateResponse } from "./request.js";

export type PruneRequest = Extract<StateRequest, { op: "prune" }>;

/** A breaker judged removable, with the exact text judged, so a store can delete only that. */
export interface PruneCandidate {
  breaker: string;
  text: string;
  lastUsedAt: number;
}

export interface PrunePlan {
  remove: PruneCandidate[];
  kept: PruneResult["kept"];
  /** Unreadable states: never judged, never removed. */
  problems: StateProblem[];
}

/** Judges every stored breaker with `pruneVerdict`; the store then deletes the candidates it still holds unchanged. */
export function planPrune(entries: { breaker: string; text: string }[], now: number, unusedForMs: number): PrunePlan {
  const plan: PrunePlan = { remove: [], kept: [], problems: [] };
  for (const { breaker, text } of [...entries].sort((a, b) => a.breaker.localeCompare(b.breaker))) {
    let state: BreakerState;
    try {
      state = parseState(text, breaker);
    } catch (e) {
      if (!(e instanceof StateError)) throw e;
      plan.problems.push({ breaker, message: e.message });
      continue;
    }
    const verdict = pruneVerdict(state, now, unusedForMs);
    if (verdict.remove) plan.remove.push({ breaker, text, lastUsedAt: state.updatedAt });
    else plan.kept.push({ breaker, lastUsedAt: state.updatedAt, reason: verdict.keep });
  }
  return plan;
}

/**
 * The answer to a prune. `changed` are candidates the store found rewritten when it came to
 * delete them (someone used the breaker meanwhile), so they were kept.
 */
export function pruneResponse(
  request: PruneRequest,
  now: number,
  plan: PrunePlan,
  changed: ReadonlySet<string> = new Set(),
  leftovers: PruneResult["leftovers"] = [],
): StateResponse {
  const kept = [
    ...plan.kept,
    ...plan.remove
      .filter((c) => changed.has(c.breaker))
      .map((c) => ({ breaker: c.breaker, lastUsedAt: c.lastUsedAt, reason: { kind: "used-while-pruning" as const } })),
  ].sort((a, b) => a.breaker.localeCompare(b.breaker));
  return {
    now,
    states: [],
    problems: plan.problems,
    prune: {
      dryRun: request.dryRun,
      unusedForMs: request.unusedForMs,
      removed: plan.remove.filter((c) => !changed.has(c.breaker)).map((c) => ({ breaker: c.breaker, lastUsedAt: c.lastUsedAt })),
      kept,
      leftovers,
    },
  };
}
