import type { Container, Directory, File, Secret } from "@dagger.io/dagger";
import { isExecFailure, type ExecFailure } from "./exec-failure.js";
import { validateBreakerName } from "../core/names.js";
import { DEFAULT_POLICY } from "../core/policy.js";
import { listWorkflows } from "../config/list-workflows.js";
import { resolveWorkflow, type CallOverrides } from "../config/resolve-workflow.js";
import { mergeBreakerSettings, toBreakerPolicy } from "../config/policies.js";
import type { Config } from "../config/schema.js";
import { decodePermit, encodePermit } from "../protection/permit-token.js";
import { acquirePermit, recordOutcome, runProtected, stateOf } from "../protection/run-protected.js";
import { prometheusMetrics } from "../report/metrics.js";
import { TraceObserver } from "../telemetry/trace-observer.js";
import { BreakerPermit } from "./breaker-permit.js";
import { historyTable, statusReport, statusTable } from "../report/status-report.js";
import { renderTable } from "../report/table.js";
import { parseParams, pairSecrets } from "../service/call-inputs.js";
import { secretNames } from "../service/secret-names.js";
import { executeWorkflow, type WorkflowOutcome } from "../service/execute-workflow.js";
import type { RecordEffect } from "../core/transitions.js";
import type { StateStore } from "../store/state-store.js";
import { ContainerStepExecutor } from "./container-step-executor.js";
import { loadConfig } from "./load-config.js";
import { redacting, redactor } from "./redact.js";
import { WorkflowRun } from "./workflow-run.js";

export interface ExecuteArgs {
  workflow: string;
  config: File;
  params: string[];
  secretNames: string[];
  secrets: Secret[];
  source: Directory | null;
  overrides: CallOverrides;
}

/** Resolves, checks and runs a workflow; every caller mistake is reported before the breaker is asked. */
export async function execute(store: StateStore, args: ExecuteArgs): Promise<WorkflowOutcome> {
  const { config } = await loadConfig(args.config);
  const workflow = resolveWorkflow(config, args.workflow, args.overrides);
  const params = parseParams(args.params);
  const secrets = pairSecrets(workflow, await secretNames(args.secretNames, args.secrets), args.secrets);
  const executor = new ContainerStepExecutor({ params, secrets, source: args.source, caching: workflow.caching });
  // Redacted before anything is recorded, so a printed secret never reaches breaker state.
  return executeWorkflow(store, workflow, redacting(executor, await redactor([...secrets.values()])), {}, new TraceObserver());
}

/** `execute`'s contract: the output on success, an error naming what failed otherwise. */
export function outputOrThrow(outcome: WorkflowOutcome): string {
  if (outcome.rejection) throw new Error(outcome.rejection.message);
  const result = outcome.result;
  if (!result) throw new Error(`workflow "${outcome.workflow}" did not run`);
  if (!result.ok) throw new Error(result.error ?? `workflow "${outcome.workflow}" failed`);
  return result.output;
}

export function toWorkflowRun(outcome: WorkflowOutcome): WorkflowRun {
  const run = new WorkflowRun();
  const r = outcome.result;
  run.workflow = outcome.workflow;
  run.breaker = outcome.breaker;
  run.success = r?.ok ?? false;
  run.rejected = outcome.rejection !== null;
  run.breakerState = outcome.view?.status ?? "unprotected";
  run.attempts = r?.attempts ?? 0;
  run.durationMs = r?.durationMs ?? 0;
  run.output = r?.output ?? "";
  run.error = outcome.rejection?.message ?? r?.error ?? "";
  run.failedStep = r?.failedStep ?? "";
  run.exitCode = r?.exitCode ?? 0;
  run.countedAsFailure = r?.classification?.counts ?? false;
  run.classifiedBy = r?.classification?.rule ?? "";
  const next = outcome.view?.nextProbeAt ?? null;
  run.nextProbeAt = next === null || outcome.view?.status === "closed" ? "" : new Date(next).toISOString();
  return run;
}

/** The policy for a breaker named outside any workflow: a workflow's that uses it, else the global one. */
export function policyForBreaker(config: Config | null, breaker: string) {
  if (!config) return DEFAULT_POLICY;
  // Workflows sharing a breaker are checked to share its settings, so the first guarded one speaks for all.
  const owner = Object.entries(config.workflows).find(
    ([name, w]) => (w.breaker ?? name) === breaker && w.use_circuit_breaker !== false,
  )?.[1];
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

export async function workflowsTable(file: File): Promise<string> {
  const { config, name } = await loadConfig(file);
  const rows = listWorkflows(config).map((w) => [w.name, w.breaker, String(w.steps), w.useCircuitBreaker ? "yes" : "no", w.description]);
  return `${name}\n${renderTable(["WORKFLOW", "BREAKER", "STEPS", "PROTECTED", "DESCRIPTION"], rows)}`;
}

export async function validate(file: File): Promise<string> {
  const { config, name } = await loadConfig(file);
  const names = Object.keys(config.workflows);
  for (const workflow of names) resolveWorkflow(config, workflow);
  return `${name} is valid: ${names.length} workflow(s): ${names.join(", ")}`;
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

export async function metrics(store: StateStore): Promise<string> {
  const response = await store.apply({ op: "read", breakers: null });
  return prometheusMetrics(response.states, response.now);
}
