// What the store-throughput workers do: acquire + record pairs on one breaker, every call
// admitted and every outcome a success, checked as they go.
import { DEFAULT_POLICY, type BreakerPolicy } from "../../lib/core/policy.js";
import type { StateRequest, StateResponse } from "../../lib/store/request.js";

export interface Store {
  apply(request: StateRequest): Promise<StateResponse>;
}

/** A threshold no run reaches, so every call is admitted while closed. */
export const BENCH_POLICY: BreakerPolicy = { ...DEFAULT_POLICY, trip: { kind: "consecutive", threshold: 1_000_000 } };

export async function pairs(store: Store, breaker: string, policy: BreakerPolicy, idPrefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const acquired = await store.apply({ op: "acquire", breaker, policy, permitId: `${idPrefix}-${i}`, expectedDurationMs: 0 });
    if (!acquired.decision?.admitted) throw new Error(`not admitted: ${JSON.stringify(acquired.decision ?? acquired.problems)}`);
    const recorded = await store.apply({ op: "record", breaker, policy, permit: acquired.decision.permit, outcome: { ok: true, durationMs: 1 } });
    if (recorded.effect !== "counted" || recorded.problems.length > 0) {
      throw new Error(`record answered ${JSON.stringify({ effect: recorded.effect, problems: recorded.problems })}`);
    }
  }
}

/**
 * The commands a worker reads from stdin, one a line, buffered from the moment this is called
 * so that none is lost while the worker is still setting up.
 */
export function commands(): AsyncIterableIterator<string> & { close(): void } {
  const queue: string[] = [];
  let wake: (() => void) | null = null;
  let ended = false;
  let partial = "";
  const onData = (chunk: Buffer) => {
    partial += chunk.toString("utf8");
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    queue.push(...parts.filter((p) => p.trim() !== ""));
    wake?.();
  };
  const onEnd = () => {
    ended = true;
    wake?.();
  };
  process.stdin.on("data", onData);
  process.stdin.once("end", onEnd);
  const close = () => {
    process.stdin.off("data", onData);
    process.stdin.off("end", onEnd);
    process.stdin.pause();
  };
  const iterator = {
    async next(): Promise<IteratorResult<string>> {
      while (queue.length === 0 && !ended) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
      const line = queue.shift();
      return line === undefined ? { done: true, value: undefined } : { done: false, value: line.trim() };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
    close,
  };
  return iterator as AsyncIterableIterator<string> & { close(): void };
}
