/**
 * Checks that span several keys, run once the file has the right shape: step graphs, breaker
 * settings that contradict each other, workflows sharing a breaker, secrets shadowed by env.
 */
import { isTemplate, templateMatches, templateVariables } from "./breaker-template.js";
import type { ConfigPath } from "./config-error.js";
import { mergeBreakerSettings, type CompleteBreakerSettings } from "./policies.js";
import type { BreakerSettings, Config, WorkflowConfig } from "./schema.js";
import { findCycles } from "./step-graph.js";
import { didYouMean } from "./suggest.js";
import type { PathProblem } from "./zod-issues.js";

export function checkConfig(config: Config): PathProblem[] {
  const problems: PathProblem[] = [];
  problems.push(...checkWindow(config.circuit_breaker, undefined, ["circuit_breaker"]));
  for (const [name, workflow] of Object.entries(config.workflows)) {
    const at: ConfigPath = ["workflows", name];
    problems.push(...checkSteps(name, workflow, at));
    problems.push(...checkSecrets(workflow, at));
    problems.push(...checkBreakerVariables(config, name, workflow, at));
    // Only re-check at workflow level when the workflow itself sets one of the two keys;
    // otherwise a bad global pair would be reported once per workflow.
    const own = workflow.circuit_breaker;
    if (own?.minimum_calls !== undefined || own?.window_size !== undefined) {
      problems.push(...checkWindow(own, config.circuit_breaker, [...at, "circuit_breaker"]));
    }
  }
  problems.push(...checkSharedBreakers(config));
  problems.push(...checkProbes(config));
  problems.push(...checkAlerts(config));
  problems.push(...checkTimeWindows(config));
  problems.push(...checkFallbacks(config));
  return problems;
}

/**
 * failure_count counts within window_seconds, so it needs one; and a section that sets both
 * window_size and window_seconds leaves it unclear which window the failure rate uses.
 */
function checkTimeWindows(config: Config): PathProblem[] {
  const found = new Map<string, PathProblem>();
  const sections: { settings: BreakerSettings | undefined; at: ConfigPath }[] = [
    { settings: config.circuit_breaker, at: ["circuit_breaker"] },
    ...Object.entries(config.workflows).map(([name, w]) => ({ settings: w.circuit_breaker, at: ["workflows", name, "circuit_breaker"] as ConfigPath })),
  ];
  for (const { settings, at } of sections) {
    if (settings?.window_size !== undefined && settings.window_seconds != null) {
      found.set(`${at.join(".")}.window_size`, {
        path: [...at, "window_size"],
        target: "key",
        message: "window_size and window_seconds are both set: the failure rate is counted over the last window_seconds (time) or the last window_size calls (count), not both; remove one",
      });
    }
  }
  for (const [name, workflow] of Object.entries(config.workflows)) {
    const merged = mergeBreakerSettings(config.circuit_breaker, workflow.circuit_breaker);
    if (merged.trip_policy !== "failure_count" || merged.window_seconds !== null) continue;
    const at: ConfigPath = workflow.circuit_breaker?.trip_policy !== undefined ? ["workflows", name, "circuit_breaker"] : ["circuit_breaker"];
    found.set(`${at.join(".")}.trip_policy`, {
      path: [...at, "trip_policy"],
      target: "value",
      message: "trip_policy failure_count opens after failure_threshold failures within window_seconds, but window_seconds is not set: add it, e.g. window_seconds: 600",
    });
  }
  return [...found.values()];
}

/**
 * A fallback must be a workflow of this file that can run when this one is refused: not itself,
 * not guarded by the same breaker (it would be refused too), and without a fallback of its own,
 * so that chains and cycles cannot form.
 */
function checkFallbacks(config: Config): PathProblem[] {
  const names = Object.keys(config.workflows);
  const problems: PathProblem[] = [];
  for (const [name, workflow] of Object.entries(config.workflows)) {
    const at: ConfigPath = ["workflows", name];
    const fallback = workflow.fallback;
    if (fallback === undefined) {
      if (workflow.fallback_on_failure === true) {
        problems.push({ path: [...at, "fallback_on_failure"], target: "key", message: "fallback_on_failure is set but the workflow has no fallback: add fallback: <workflow> or remove it" });
      }
      continue;
    }
    const problem = (message: string) => problems.push({ path: [...at, "fallback"], target: "value", message });
    const target = config.workflows[fallback];
    if (!Object.hasOwn(config.workflows, fallback) || target === undefined) {
      problem(`no workflow named ${JSON.stringify(fallback)} to run as the fallback${didYouMean(fallback, names)}`);
    } else if (fallback === name) {
      problem(`workflow ${JSON.stringify(name)} cannot be its own fallback: name another workflow`);
    } else if (target.fallback !== undefined) {
      problem(
        `the fallback ${JSON.stringify(fallback)} has a fallback of its own (${JSON.stringify(target.fallback)}); fallbacks do not chain: point ${JSON.stringify(name)} at the last one, or remove ${JSON.stringify(fallback)}'s fallback`,
      );
    } else if (target.use_circuit_breaker !== false && workflow.use_circuit_breaker !== false && (target.breaker ?? fallback) === (workflow.breaker ?? name)) {
      problem(
        `the fallback ${JSON.stringify(fallback)} is guarded by the same breaker ${JSON.stringify(workflow.breaker ?? name)}, so it would be refused whenever this workflow is: give it a breaker of its own, or use_circuit_breaker: false`,
      );
    }
  }
  return problems;
}

/** An on_transition must name a workflow of this file, checked here so a typo is not found only when a breaker trips. */
function checkAlerts(config: Config): PathProblem[] {
  const names = Object.keys(config.workflows);
  const uses: { path: ConfigPath; alert: string | undefined }[] = [
    { path: ["on_transition"], alert: config.on_transition },
    ...Object.entries(config.workflows).map(([name, w]) => ({ path: ["workflows", name, "on_transition"] as ConfigPath, alert: w.on_transition })),
  ];
  return uses.flatMap(({ path, alert }) =>
    alert === undefined || Object.hasOwn(config.workflows, alert)
      ? []
      : [{ path, target: "value" as const, message: `no workflow named ${JSON.stringify(alert)} to run as the alert${didYouMean(alert, names)}` }],
  );
}

/** A probe under `probes:` must name a breaker some guarded workflow uses, or it would never run. */
function checkProbes(config: Config): PathProblem[] {
  const breakers = Object.entries(config.workflows)
    .filter(([, workflow]) => workflow.use_circuit_breaker !== false)
    .map(([name, workflow]) => workflow.breaker ?? name);
  return Object.keys(config.probes ?? {})
    .filter((breaker) => !breakers.includes(breaker))
    .map((breaker) => ({
      path: ["probes", breaker],
      target: "key" as const,
      message: `no guarded workflow uses breaker ${JSON.stringify(breaker)}, so this probe would never run${probeKeyHint(breaker, breakers)}`,
    }));
}

/** A probe keyed by one filled name of a templated breaker is the likely mistake; say how it is keyed. */
function probeKeyHint(key: string, breakers: string[]): string {
  const template = breakers.find((breaker) => isTemplate(breaker) && templateMatches(breaker, key));
  if (template === undefined) return didYouMean(key, [...new Set(breakers)]);
  return `: a templated breaker's probe is keyed by the template as written, ${JSON.stringify(template)}, and serves every value`;
}

function checkWindow(own: BreakerSettings | undefined, global: BreakerSettings | undefined, at: ConfigPath): PathProblem[] {
  if (own === undefined) return [];
  const { minimum_calls: minimumCalls, window_size: windowSize } = mergeBreakerSettings(global, own);
  if (minimumCalls <= windowSize) return [];
  const key = own.minimum_calls !== undefined ? "minimum_calls" : "window_size";
  return [
    {
      path: [...at, key],
      target: "value",
      message: `minimum_calls (${minimumCalls}) is larger than window_size (${windowSize}): the failure rate could never be decided; lower minimum_calls or raise window_size`,
    },
  ];
}

function checkSteps(workflowName: string, workflow: WorkflowConfig, at: ConfigPath): PathProblem[] {
  const problems: PathProblem[] = [];
  const firstIndex = new Map<string, number>();
  workflow.steps.forEach((step, index) => {
    const first = firstIndex.get(step.name);
    if (first === undefined) {
      firstIndex.set(step.name, index);
    } else {
      problems.push({
        path: [...at, "steps", index, "name"],
        target: "value",
        message: `duplicate step name ${JSON.stringify(step.name)} (also steps[${first}]): rename one of them`,
      });
    }
  });
  const names = [...firstIndex.keys()];

  workflow.steps.forEach((step, index) => {
    const listed = new Set<string>();
    (step.depends_on ?? []).forEach((dependency, position) => {
      const path = [...at, "steps", index, "depends_on", position];
      if (listed.has(dependency)) {
        problems.push({ path, target: "value", message: `${JSON.stringify(dependency)} is listed twice in depends_on: remove the repeat` });
      } else if (!firstIndex.has(dependency)) {
        const others = names.filter((other) => other !== step.name);
        const suggestion = didYouMean(dependency, others);
        const fix =
          suggestion !== "" ? suggestion : others.length > 0 ? `; the other steps are: ${others.join(", ")}` : "; remove it";
        problems.push({
          path,
          target: "value",
          message: `step ${JSON.stringify(step.name)} depends on ${JSON.stringify(dependency)}, which is not a step of workflow ${JSON.stringify(workflowName)}${fix}`,
        });
      }
      listed.add(dependency);
    });
  });

  // With duplicate names the graph is ambiguous; those must be fixed first.
  if (problems.some((problem) => problem.message.startsWith("duplicate step name"))) return problems;
  const nodes = workflow.steps.map((step) => ({ name: step.name, dependsOn: step.depends_on ?? [] }));
  for (const cycle of findCycles(nodes)) {
    const [from, to] = cycle;
    const index = workflow.steps.findIndex((step) => step.name === from);
    const position = workflow.steps[index]?.depends_on?.indexOf(to ?? "") ?? 0;
    problems.push({
      path: [...at, "steps", index, "depends_on", position],
      target: "value",
      message: `depends_on forms a cycle: ${cycle.join(" -> ")}; remove one of these dependencies`,
    });
  }
  return problems;
}

function checkSecrets(workflow: WorkflowConfig, at: ConfigPath): PathProblem[] {
  const problems: PathProblem[] = [];
  workflow.steps.forEach((step, index) => {
    const seen = new Set<string>();
    (step.secrets ?? []).forEach((secret, position) => {
      const path = [...at, "steps", index, "secrets", position];
      if (seen.has(secret)) {
        problems.push({ path, target: "value", message: `secret ${JSON.stringify(secret)} is listed twice: remove the repeat` });
      } else if (step.env?.[secret] !== undefined || workflow.env?.[secret] !== undefined) {
        const where = step.env?.[secret] !== undefined ? "the step's env" : "the workflow's env";
        problems.push({
          path,
          target: "value",
          message: `secret ${JSON.stringify(secret)} is also set in ${where}: remove it from env so the secret is what the step sees`,
        });
      }
      seen.add(secret);
    });
  });
  return problems;
}

/**
 * A breaker name is stored in state and shown by status and metrics, so a placeholder must not
 * name a secret: its value would be written where secrets never go.
 */
function checkBreakerVariables(config: Config, name: string, workflow: WorkflowConfig, at: ConfigPath): PathProblem[] {
  if (workflow.breaker === undefined) return [];
  const sharedProbe = Object.hasOwn(config.probes ?? {}, workflow.breaker) ? config.probes?.[workflow.breaker] : undefined;
  const secrets = new Set([
    ...workflow.steps.flatMap((step) => step.secrets ?? []),
    ...(workflow.probe?.secrets ?? []),
    ...(sharedProbe?.secrets ?? []),
  ]);
  return templateVariables(workflow.breaker)
    .filter((variable) => secrets.has(variable))
    .map((variable) => ({
      path: [...at, "breaker"],
      target: "value" as const,
      message: `breaker ${JSON.stringify(workflow.breaker)} of workflow ${JSON.stringify(name)} uses \${${variable}}, which is a secret of this workflow: a breaker name is stored and shown by status and metrics, so it must not hold a secret; use a --params entry or an env var instead`,
    }));
}

/** Workflows sharing a breaker share its state, so they must judge it by the same settings. */
function checkSharedBreakers(config: Config): PathProblem[] {
  const problems: PathProblem[] = [];
  const firstUser = new Map<string, { workflow: string; settings: CompleteBreakerSettings }>();
  for (const [name, workflow] of Object.entries(config.workflows)) {
    if (workflow.use_circuit_breaker === false) continue;
    const breaker = workflow.breaker ?? name;
    const settings = mergeBreakerSettings(config.circuit_breaker, workflow.circuit_breaker);
    const first = firstUser.get(breaker);
    if (first === undefined) {
      firstUser.set(breaker, { workflow: name, settings });
      continue;
    }
    const differences = (Object.keys(settings) as (keyof CompleteBreakerSettings)[])
      .filter((key) => JSON.stringify(settings[key]) !== JSON.stringify(first.settings[key]))
      .map((key) => `${key}: ${JSON.stringify(settings[key])} here, ${JSON.stringify(first.settings[key])} there`);
    if (differences.length === 0) continue;
    problems.push({
      path: workflow.breaker !== undefined ? ["workflows", name, "breaker"] : ["workflows", name],
      target: workflow.breaker !== undefined ? "value" : "key",
      message: `workflow ${JSON.stringify(name)} shares breaker ${JSON.stringify(breaker)} with workflow ${JSON.stringify(first.workflow)} but their circuit_breaker settings differ (${differences.join("; ")}): give them the same settings, e.g. in the global circuit_breaker section, or use separate breakers`,
    });
  }
  return problems;
}
