import { serializeState } from "../core/serialize.js";
import { applyRequest, readStates } from "./apply.js";
import { planPrune, pruneResponse } from "./prune-plan.js";
import type { StateRequest, StateResponse } from "./request.js";
import type { StateStore } from "./state-store.js";

/** State in this process's memory: for tests and for callers that want a local breaker. */
export class MemoryStateStore implements StateStore {
  readonly description = "memory";
  /** Stored text per breaker, kept serialised so this store fails exactly as the others do. */
  readonly texts = new Map<string, string>();

  constructor(private readonly clock: () => number = Date.now) {}

  async apply(request: StateRequest): Promise<StateResponse> {
    const now = this.clock();
    if (request.op === "read") {
      const names = request.breakers ?? [...this.texts.keys()];
      const entries = names.flatMap((breaker) => {
        const text = this.texts.get(breaker);
        return text === undefined ? [] : [{ breaker, text }];
      });
      return readStates(entries, now);
    }
    if (request.op === "prune") {
      const plan = planPrune([...this.texts].map(([breaker, text]) => ({ breaker, text })), now, request.unusedForMs);
      if (!request.dryRun) for (const c of plan.remove) this.texts.delete(c.breaker);
      return pruneResponse(request, now, plan);
    }
    const { next, response } = applyRequest(request, this.texts.get(request.breaker) ?? null, now);
    if (next !== null) this.texts.set(request.breaker, serializeState(next));
    return response;
  }
}
