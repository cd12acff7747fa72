import type { MemoryStateStore } from "../../lib/store/memory-store.js";
import type { StateRequest, StateResponse } from "../../lib/store/request.js";
import type { StateStore } from "../../lib/store/state-store.js";

/** A memory store that keeps every request it was sent, so a test can check what reached the state. */
export class CountingStore implements StateStore {
  readonly description = "counting memory store";
  readonly requests: StateRequest[] = [];
  constructor(readonly inner: MemoryStateStore) {}
  apply(request: StateRequest): Promise<StateResponse> {
    this.requests.push(request);
    return this.inner.apply(request);
  }
}
