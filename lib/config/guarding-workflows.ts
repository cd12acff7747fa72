import { isTemplate, templateMatches } from "./breaker-template.js";
import type { Config, WorkflowConfig } from "./schema.js";

/**
 * The guarded workflows whose breaker is `breaker`: those naming it exactly first, then those
 * whose template some values would fill to it. Workflows sharing a breaker are checked to share
 * its settings, so the first speaks for all.
 */
export function workflowsGuarding(config: Config, breaker: string): WorkflowConfig[] {
  const guarded = Object.entries(config.workflows).filter(([, w]) => w.use_circuit_breaker !== false);
  const named = (name: string, w: WorkflowConfig) => w.breaker ?? name;
  return [
    ...guarded.filter(([name, w]) => named(name, w) === breaker),
    ...guarded.filter(([name, w]) => isTemplate(named(name, w)) && templateMatches(named(name, w), breaker)),
  ].map(([, w]) => w);
}
