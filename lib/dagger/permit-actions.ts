import type { Container, File } from "@dagger.io/dagger";
import { BreakerPermit } from "../../src/dagger/breaker-permit.js";
import type { PermitCalls } from "../../src/module-api.js";
import { workflowsGuarding } from "../config/guarding-workflows.js";
import { mergeBreakerSettings, toBreakerPolicy } from "../config/policies.js";
import type { Config } from "../config/schema.js";
import { validateBreakerName } from "../core/names.js";
import { DEFAULT_POLICY } from "../core/policy.js";
import type { RecordEffect } from "../core/transitions.js";
import { decodePermit, encodePermit } from "../protection/permit-token.js";
import { acquirePermit, recordOutcome, runProtected, stateOf } from "../protection/run-protected.js";
import { statusTable } from "../report/status-report.js";
import type { StateStore } from "../store/state-store.js";
import { TraceObserver } from "../telemetry/trace-observer.js";
import { isExecFailure, type ExecFailure } from "./exec-failure.js";
import { loadConfig } from "./load-config.js";
import { withStateStore } from "./state-store-choice.js";

/** The policy for a breaker named outside any workflow: a workflow's that uses it, else the global one. */
export function policyForBreaker(config: Config | null, breaker: string) {
  if (!config) return DEFAULT_POLICY;
  const owner = workflowsGuarding(config, breaker)[0];
  return toBreakerPolicy(mergeBreakerSettings(config.circuit_breaker, owner?.circuit_breaker));
}

/** Evaluates the caller's container under the breaker; a failed exec counts as a failure. */
export async function protect(store: StateStore, container: Container, breaker: string, config: File | null): Promise<Container> {
  validateBreakerName(breaker);
  const policy = policyForBreaker(config ? (await loadConfig(config)).config : null, breaker);
  const run = await runProtected<Container | ExecFailure>({
    store,
    breaker,
    policy,
    what: "the container",
    expectedDurationMs: 0,
    observer: new TraceObserver(),
    run: async () => {
      const started = Date.now();
      try {
        const synced = await container.sync();
        return { value: synced, outcome: { ok: true, durationMs: Date.now() - started } };
      } catch (e) {
        if (!isExecFailure(e)) throw e;
        const outcome = { ok: false, durationMs: Date.now() - started, exitCode: e.exitCode, error: e.message.split("\n")[0] };
        return { value: e, outcome };
      }
    },
  });
  if (isExecFailure(run.value)) throw run.value;
  return run.value;
}

/** First half of the two-step API: a permit, or the same refusal `execute` gives. */
export async function acquire(
  store: StateStore,
  breaker: string,
  config: File | null,
  expectedDurationSeconds: number | null,
): Promise<BreakerPermit> {
  validateBreakerName(breaker);
  if (expectedDurationSeconds !== null && !(expectedDurationSeconds >= 0)) {
    throw new Error(`--expected-duration must be a number of seconds >= 0, got ${expectedDurationSeconds}`);
  }
  const policy = policyForBreaker(config ? (await loadConfig(config)).config : null, breaker);
  const permit = await acquirePermit(store, breaker, policy, "the call", (expectedDurationSeconds ?? 0) * 1000, new TraceObserver());
  const result = new BreakerPermit();
  result.permitId = permit.id;
  result.breaker = permit.breaker;
  result.probe = permit.probe;
  result.expiresAt = permit.expiresAt === null ? "" : new Date(permit.expiresAt).toISOString();
  result.token = encodePermit(permit, policy);
  return result;
}

/** Second half: how the call went. Returns the breaker's status line after recording. */
export async function record(
  store: StateStore,
  token: string,
  outcome: { success: boolean; error: string | null; exitCode: number | null; durationMs: number | null },
): Promise<string> {
  const { permit, policy } = decodePermit(token);
  const durationMs = outcome.durationMs ?? Math.max(0, Date.now() - permit.issuedAt);
  const recorded = await recordOutcome(
    store,
    policy,
    permit,
    { ok: outcome.success, durationMs, exitCode: outcome.exitCode, error: outcome.error ?? undefined },
    new TraceObserver(),
  );
  const note = RECORD_NOTES[recorded.effect];
  const table = statusTable([recorded.state], [], recorded.now);
  return note === undefined ? table : `permit ${permit.id} ${note}\n${table}`;
}

/** What `record` says when the report did not count as a fresh outcome. */
const RECORD_NOTES: Partial<Record<RecordEffect, string>> = {
  duplicate: "was already recorded or cancelled: nothing changed",
  late: "had already been taken for dead when this report came: counted as late, not again",
  stale: "is from before the breaker's last transition: counted in the totals, the breaker did not move",
  ignored: "ended in a failure that does not count (ignored_exit_codes): recorded as neutral",
};

/** Gives a permit back unused: the call never ran for reasons of the caller. */
export async function cancelPermit(store: StateStore, token: string): Promise<string> {
  const { permit, policy } = decodePermit(token);
  const response = await store.apply({ op: "cancel", breaker: permit.breaker, policy, permit });
  return statusTable([stateOf(response, permit.breaker)], [], response.now);
}

/** `protect` and the two-step API, for the module's face. */
const calls: PermitCalls = {
  protect: (choice, container, breaker, config) => withStateStore(choice, (store) => protect(store, container, breaker, config)),
  acquire: (choice, breaker, config, expected) => withStateStore(choice, (store) => acquire(store, breaker, config, expected)),
  record: (choice, token, outcome) => withStateStore(choice, (store) => record(store, token, outcome)),
  cancel: (choice, token) => withStateStore(choice, (store) => cancelPermit(store, token)),
};
export default calls;
