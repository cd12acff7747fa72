import type { File, Secret } from "@dagger.io/dagger";
import { isTemplate, templateMatches } from "../config/breaker-template.js";
import { resolveWorkflow, type ResolvedWorkflow } from "../config/resolve-workflow.js";
import type { Config } from "../config/schema.js";
import type { LastError, Transition } from "../core/state.js";
import { pairSecrets } from "../service/call-inputs.js";
import { secretNames } from "../service/secret-names.js";
import { sendAlerts, TransitionCollector } from "../service/transition-alerts.js";
import { ContainerStepExecutor } from "./container-step-executor.js";
import { loadConfig } from "./load-config.js";
import { redacting, redactor } from "./redact.js";

/** The alert of a breaker operated by hand: that of a workflow it guards, else the file's top-level one. */
export function alertWorkflowFor(config: Config, breaker: string): string | null {
  for (const [name, workflow] of Object.entries(config.workflows)) {
    const guards = workflow.breaker ?? name;
    const matches = guards === breaker || (isTemplate(guards) && templateMatches(guards, breaker));
    if (matches && workflow.use_circuit_breaker !== false && workflow.on_transition !== undefined) return workflow.on_transition;
  }
  return config.on_transition ?? null;
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
    async send(name, transitions, lastError) {
      const made = new TransitionCollector();
      for (const transition of transitions) made.observe({ kind: "transition", breaker: name, transition, lastError });
      return sendAlerts(alert, made.made, executor);
    },
  };
}
