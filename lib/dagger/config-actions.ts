import type { File } from "@dagger.io/dagger";
import type { ConfigCalls } from "../../src/module-api.js";
import { sampleValues } from "../config/breaker-template.js";
import { listWorkflows } from "../config/list-workflows.js";
import { resolveWorkflow } from "../config/resolve-workflow.js";
import { renderTable } from "../report/table.js";
import { loadConfig } from "./load-config.js";

export async function workflowsTable(file: File): Promise<string> {
  const { config, name } = await loadConfig(file);
  const rows = listWorkflows(config).map((w) => [w.name, w.breaker, String(w.steps), w.useCircuitBreaker ? "yes" : "no", w.description]);
  return `${name}\n${renderTable(["WORKFLOW", "BREAKER", "STEPS", "PROTECTED", "DESCRIPTION"], rows)}`;
}

export async function validate(file: File): Promise<string> {
  const { config, name } = await loadConfig(file);
  const names = Object.keys(config.workflows);
  // A templated breaker's values come with each call; any value will do to check the rest resolves.
  for (const workflow of names) resolveWorkflow(config, workflow, {}, sampleValues(config.workflows[workflow]?.breaker));
  return `${name} is valid: ${names.length} workflow(s): ${names.join(", ")}`;
}

/** Config-only functions, for the module's face; they touch no state. */
const calls: ConfigCalls = { listWorkflows: workflowsTable, validateConfig: validate };
export default calls;
