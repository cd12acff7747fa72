import type { File, Secret } from "@dagger.io/dagger";
import { workflowsGuarding } from "../config/guarding-workflows.js";
import { resolveWorkflow, type ResolvedWorkflow } from "../config/resolve-workflow.js";
import type { Config } from "../config/schema.js";
import type { LastError, Transition } from "../core/state.js";
import { pairSecrets } from "../service/call-inputs.js";
import { secretNames } from "../service/secret-names.js";
import { isAlerted, sendAlerts } from "../service/transition-alerts.js";
import { ContainerStepExecutor } from "./container-step-executor.js";
import { loadConfig } from "./load-config.js";
import { redacting, redactor } from "./redact.js";

/** The alert of a breaker operated by hand: that of a workflow it guards, else the file's top-level one. */
export function alertWorkflowFor(config: Config, breaker: string): string | null {
  return workflowsGuarding(config, breaker).find((w) => w.on_transition !== undefined)?.on_transition ?? config.on_transition ?? null;
}

/** A ready alert for `trip` or `reset`: resolved and its secrets paired before the state is touched. */
export interface ManualAlert {
  send(breaker: string, transitions: readonly Transition[], lastError: LastError | null): Promise<string[]>;
}

/** Reads the config and prepares its alert for `breaker`; null when the config has none for it. */
export async function prepareManualAlert(file: File, secrets: Secret[], breaker: string): Promise<ManualAlert | null> {
  const { config } = await loadConfig(file);
  const name = alertWorkflowFor(config, breaker);
  if (name === null) return null;
  const alert: ResolvedWorkflow = resolveWorkflow(config, name);
  const paired = pairSecrets(alert, await secretNames([], secrets), secrets);
  const executor = redacting(new ContainerStepExecutor({ params: {}, secrets: paired, source: null, caching: alert.caching }), await redactor([...paired.values()]));
  return {
    send: (name, transitions, lastError) =>
      sendAlerts(alert, transitions.filter(isAlerted).map((transition) => ({ breaker: name, transition, lastError })), executor),
  };
}
