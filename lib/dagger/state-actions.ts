import type { StateCalls } from "../../src/module-api.js";
import { validateBreakerName } from "../core/names.js";
import { stateOf } from "../protection/run-protected.js";
import { prometheusMetrics } from "../report/metrics.js";
import { historyTable, statusReport, statusTable } from "../report/status-report.js";
import type { StateStore } from "../store/state-store.js";
import { withStateStore } from "./state-store-choice.js";

export async function status(store: StateStore, breaker: string | null, format: string): Promise<string> {
  if (format !== "table" && format !== "json") {
    throw new Error(`--format must be "table" or "json", got ${JSON.stringify(format)}`);
  }
  if (breaker !== null) validateBreakerName(breaker);
  const response = await store.apply({ op: "read", breakers: breaker === null ? null : [breaker] });
  if (breaker !== null && response.states.length === 0 && response.problems.length === 0) {
    throw new Error(`no breaker named "${breaker}" in ${store.description} yet: a breaker is created by its first protected call`);
  }
  return format === "json"
    ? JSON.stringify(statusReport(response.states, response.problems, response.now), null, 2)
    : statusTable(response.states, response.problems, response.now);
}

export async function history(store: StateStore, breaker: string): Promise<string> {
  validateBreakerName(breaker);
  const response = await store.apply({ op: "read", breakers: [breaker] });
  if (response.states.length === 0 && response.problems.length === 0) {
    throw new Error(`no breaker named "${breaker}" in ${store.description} yet`);
  }
  return historyTable(stateOf(response, breaker));
}

export async function control(
  store: StateStore,
  op: "reset" | "trip" | "disable",
  breaker: string,
  durationSeconds: number | null = null,
): Promise<string> {
  validateBreakerName(breaker);
  if (durationSeconds !== null && !(Number.isInteger(durationSeconds) && durationSeconds > 0)) {
    throw new Error(`--duration must be a whole number of seconds >= 1, got ${durationSeconds}`);
  }
  const response =
    op === "trip"
      ? await store.apply({ op, breaker, policy: null, durationMs: durationSeconds === null ? null : durationSeconds * 1000 })
      : await store.apply({ op, breaker, policy: null });
  const state = stateOf(response, breaker);
  return statusTable([state], [], response.now);
}

export async function metrics(store: StateStore): Promise<string> {
  const response = await store.apply({ op: "read", breakers: null });
  return prometheusMetrics(response.states, response.now);
}

/** Reading and operating breakers, for the module's face; nothing here loads a config. */
const calls: StateCalls = {
  metrics: (choice) => withStateStore(choice, (store) => metrics(store)),
  status: (choice, breaker, format) => withStateStore(choice, (store) => status(store, breaker, format)),
  history: (choice, breaker) => withStateStore(choice, (store) => history(store, breaker)),
  control: (choice, op, breaker, duration) => withStateStore(choice, (store) => control(store, op, breaker, duration)),
};
export default calls;
