/**
 * The rows `list` shows: one per workflow, in the order the file declares them.
 */
import { DEFAULT_USE_CIRCUIT_BREAKER } from "./defaults.js";
import type { Config } from "./schema.js";

export interface WorkflowSummary {
  name: string;
  description: string;
  breaker: string;
  steps: number;
  useCircuitBreaker: boolean;
}

export function listWorkflows(config: Config): WorkflowSummary[] {
  return Object.entries(config.workflows).map(([name, workflow]) => ({
    name,
    description: workflow.description ?? "",
    breaker: workflow.breaker ?? name,
    steps: workflow.steps.length,
    useCircuitBreaker: workflow.use_circuit_breaker ?? DEFAULT_USE_CIRCUIT_BREAKER,
  }));
}
