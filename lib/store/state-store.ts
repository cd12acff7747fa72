import type { StateRequest, StateResponse } from "./request.js";

/** Where breaker state lives. Each request is applied atomically; no lock outlives a request. */
export interface StateStore {
  /** A short description for messages, e.g. `cache volume "circuit-breaker-state"`. */
  readonly description: string;
  apply(request: StateRequest): Promise<StateResponse>;
}
