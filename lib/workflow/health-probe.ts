import type { ResolvedWorkflow } from "../config/resolve-workflow.js";
import { requestedWait } from "./classify-failure.js";
import { outputTail, runStep, type StepExecutor, type StepReport, type WorkflowRunResult } from "./run-workflow.js";

export type ProbeResult = { passed: true; report: StepReport } | { passed: false; result: WorkflowRunResult };

/**
 * Runs the workflow's health probe once, without retries. A failure always counts against
 * the breaker (it is what the probe is for) and becomes the call's result: the workflow's own
 * steps do not run.
 */
export async function runHealthProbe(workflow: ResolvedWorkflow, probe: NonNullable<ResolvedWorkflow["probe"]>, executor: StepExecutor): Promise<ProbeResult> {
  const { retryRefused: _none, ...report } = await runStep(probe, executor, 1);
  if (report.exitCode === 0) return { passed: true, report };
  const how = report.timedOut ? `timed out after ${report.timeoutSeconds} s` : `exited with code ${report.exitCode}`;
  const head = `health probe of breaker "${workflow.breakerName}" ${how}, so workflow "${workflow.name}" was not run`;
  const output = outputTail(report);
  return {
    passed: false,
    result: {
      ok: false,
      attempts: 0,
      steps: [report],
      output: "",
      failedStep: report.name,
      exitCode: report.exitCode,
      error: output === "" ? head : `${head}\n${output}`,
      classification: { counts: true, rule: "health probe" },
      retryAfter: requestedWait(workflow, report.name, report),
      durationMs: report.durationMs,
      retryRefused: null,
    },
  };
}
