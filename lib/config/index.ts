/** The config layer: reading config/dagger.yaml and deciding each workflow's settings. */
export { parseConfig } from "./parse-config.js";
export { ConfigError, formatPath, formatProblem, type ConfigPath, type ConfigProblem } from "./config-error.js";
export {
  findWorkflow,
  resolveWorkflow,
  UnknownWorkflowError,
  type ResolvedStep,
  type ResolvedWorkflow,
} from "./resolve-workflow.js";
export { InvalidOverrideError, validateOverrides, flagName, type CallOverrides } from "./call-overrides.js";
export type { RetryPolicy } from "./policies.js";
export { listWorkflows, type WorkflowSummary } from "./list-workflows.js";
export { configSchema, type Config, type WorkflowConfig, type StepConfig, type BreakerSettings, type RetrySettings } from "./schema.js";
export { DEFAULT_BREAKER_SETTINGS, DEFAULT_RETRY_SETTINGS } from "./defaults.js";
