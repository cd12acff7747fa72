/**
 * One workflow with every setting decided. Precedence, highest first: call arguments, the
 * workflow's own settings, the global sections, built-in defaults.
 */
import type { BreakerPolicy } from "../core/policy.js";
import { flagName, InvalidOverrideError, isGiven, validateOverrides, type CallOverrides } from "./call-overrides.js";
import { DEFAULT_CACHING, DEFAULT_PROBE_TIMEOUT_SECONDS, DEFAULT_USE_CIRCUIT_BREAKER } from "./defaults.js";
import { resolveFailureRules, resolveRetryAfter, resolveRetryWhen, type FailureMatcher, type FailureRule, type RetryAfterPattern } from "./failure-rules.js";
import { mergeBreakerSettings, mergeRetrySettings, toBreakerPolicy, toRetryPolicy, type RetryPolicy } from "./policies.js";
import { chooseBreaker } from "./resolve-breaker-name.js";
import type { Config, ProbeConfig, StepConfig, WorkflowConfig } from "./schema.js";
import { layersOf } from "./step-graph.js";
import { suggestNearest } from "./suggest.js";

export type { CallOverrides } from "./call-overrides.js";
export type { RetryPolicy } from "./policies.js";

export interface ResolvedStep {
  name: string;
  image: string;
  command: string[];
  /** Workflow env merged with the step's own, the step's winning. */
  env: Record<string, string>;
  workdir: string | null;
  dependsOn: string[];
  timeoutSeconds: number | null;
  retries: number;
  /** Names of caller-supplied secrets, each exposed as an env var of the same name. */
  secrets: string[];
  /** Cache volumes to mount, by absolute path. */
  cacheVolumes: Record<string, string>;
  /** Whether a failure no rule matched counts against the breaker. */
  guarded: boolean;
  /** The step's own failure rules, checked before the workflow's. */
  failureRules: FailureRule[];
  /** Failures this step retries; null: any (the workflow's conditions apply when it has some). */
  retryWhen: FailureMatcher[] | null;
}

export interface ResolvedWorkflow {
  name: string;
  description: string;
  /** The breaker this call uses: `--breaker`, else the workflow's `breaker:` with its placeholders filled. */
  breakerName: string;
  useCircuitBreaker: boolean;
  caching: boolean;
  policy: BreakerPolicy;
  retry: RetryPolicy;
  steps: ResolvedStep[];
  /** Seconds the whole run may take, every attempt and backoff included; null: no limit. */
  timeoutSeconds: number | null;
  failureRules: FailureRule[];
  /** Failures the workflow retries (and its steps, unless they have their own); null: any. */
  retryWhen: FailureMatcher[] | null;
  retryAfter: RetryAfterPattern | null;
  /** Run as the half-open probe before the steps: the workflow's own, else its breaker's. */
  probe: ResolvedStep | null;
  /** steps grouped so that each layer depends only on earlier layers; steps within a layer may run concurrently */
  layers: string[][];
  /** How long a call over max_concurrent_calls waits for a slot before it is refused; 0: at once. */
  queueTimeoutMs: number;
  /** The workflow run as an alert when a call of this one opens, closes or forces open its breaker; null: none. */
  onTransition: string | null;
  /** The workflow run instead when the breaker refuses the call (and, with `onFailure`, when the run fails); null: none. */
  fallback: { workflow: string; onFailure: boolean } | null;
}

export class UnknownWorkflowError extends Error {
  override name = "UnknownWorkflowError";
  constructor(
    readonly workflow: string,
    readonly available: string[],
    readonly suggestion: string | undefined,
  ) {
    const hint = suggestion === undefined ? "" : `; did you mean ${JSON.stringify(suggestion)}?`;
    const listed = available.length === 0 ? "none are defined" : `available workflows: ${available.join(", ")}`;
    super(`unknown workflow ${JSON.stringify(workflow)}${hint} (${listed})`);
  }
}

export function findWorkflow(config: Config, name: string): WorkflowConfig {
  // Own-property lookup, so names like "constructor" are not found on the prototype.
  if (Object.hasOwn(config.workflows, name)) {
    const workflow = config.workflows[name];
    if (workflow !== undefined) return workflow;
  }
  const available = Object.keys(config.workflows);
  throw new UnknownWorkflowError(name, available, suggestNearest(name, available));
}

/**
 * `params` are the call's `--params`: they fill `${NAME}` placeholders in the workflow's breaker
 * before the workflow's env does. A placeholder neither supplies is a located ConfigError.
 */
export function resolveWorkflow(
  config: Config,
  workflow: string,
  overrides: CallOverrides = {},
  params: Readonly<Record<string, string>> = {},
): ResolvedWorkflow {
  const own = findWorkflow(config, workflow);
  validateOverrides(overrides);

  const settings = mergeBreakerSettings(config.circuit_breaker, own.circuit_breaker);
  if (isGiven(overrides.failureThreshold)) {
    if (settings.trip_policy === "failure_rate") {
      throw new InvalidOverrideError(
        flagName("failureThreshold"),
        `${flagName("failureThreshold")} applies only to trip_policy "consecutive" or "failure_count", but workflow ${JSON.stringify(workflow)} uses "${settings.trip_policy}": change failure_rate_threshold in the config instead`,
      );
    }
    settings.failure_threshold = overrides.failureThreshold;
  }
  if (isGiven(overrides.resetTimeoutSeconds)) settings.reset_timeout = overrides.resetTimeoutSeconds;
  if (isGiven(overrides.halfOpenTimeoutSeconds)) settings.half_open_timeout = overrides.halfOpenTimeoutSeconds;

  const retry = mergeRetrySettings(config.retry, own.retry);
  if (isGiven(overrides.maxRetries)) retry.max_retries = overrides.maxRetries;

  const steps = own.steps.map((step) => resolveStep(step, own.env ?? {}));
  const breaker = chooseBreaker(config, workflow, own, isGiven(overrides.breaker) ? overrides.breaker : null, params);
  // A templated breaker's probe is keyed by the template as written, so it serves every key.
  const probe = own.probe ?? (Object.hasOwn(config.probes ?? {}, breaker.probeKey) ? config.probes?.[breaker.probeKey] : undefined);
  return {
    name: workflow,
    description: own.description ?? "",
    breakerName: breaker.name,
    useCircuitBreaker: isGiven(overrides.useCircuitBreaker)
      ? overrides.useCircuitBreaker
      : (own.use_circuit_breaker ?? DEFAULT_USE_CIRCUIT_BREAKER),
    caching: isGiven(overrides.caching) ? overrides.caching : (own.caching ?? DEFAULT_CACHING),
    policy: toBreakerPolicy(settings),
    retry: toRetryPolicy(retry),
    steps,
    timeoutSeconds: own.timeout_seconds ?? null,
    queueTimeoutMs: Math.round(settings.queue_timeout * 1000),
    onTransition: own.on_transition ?? config.on_transition ?? null,
    fallback: own.fallback === undefined ? null : { workflow: own.fallback, onFailure: own.fallback_on_failure ?? false },
    failureRules: resolveFailureRules(own.failure_rules, `workflow "${workflow}"`),
    retryWhen: resolveRetryWhen(own.retry_when),
    retryAfter: resolveRetryAfter(own.retry_after),
    probe: probe === undefined ? null : resolveProbe(probe, own.env ?? {}),
    layers: layersOf(steps),
  };
}

/** The workflow with `env` added to every step's env, winning over it: what an alert or a fallback is told. */
export function withStepEnv(workflow: ResolvedWorkflow, env: Record<string, string>): ResolvedWorkflow {
  return { ...workflow, steps: workflow.steps.map((step) => ({ ...step, env: { ...step.env, ...env } })) };
}

function resolveStep(step: StepConfig, workflowEnv: Record<string, string>): ResolvedStep {
  return {
    name: step.name,
    image: step.image,
    command: [...step.command],
    env: { ...workflowEnv, ...step.env },
    workdir: step.workdir ?? null,
    dependsOn: [...(step.depends_on ?? [])],
    timeoutSeconds: step.timeout_seconds ?? null,
    retries: step.retries ?? 0,
    secrets: [...(step.secrets ?? [])],
    cacheVolumes: { ...step.cache_volumes },
    guarded: step.guarded ?? true,
    failureRules: resolveFailureRules(step.failure_rules, `step "${step.name}"`),
    retryWhen: resolveRetryWhen(step.retry_when),
  };
}

/** The name a probe has in reports and messages. */
export const PROBE_STEP_NAME = "health-probe";

function resolveProbe(probe: ProbeConfig, workflowEnv: Record<string, string>): ResolvedStep {
  return {
    name: PROBE_STEP_NAME,
    image: probe.image,
    command: [...probe.command],
    env: { ...workflowEnv, ...probe.env },
    workdir: null,
    dependsOn: [],
    timeoutSeconds: probe.timeout_seconds ?? DEFAULT_PROBE_TIMEOUT_SECONDS,
    retries: 0,
    secrets: [...(probe.secrets ?? [])],
    cacheVolumes: {},
    guarded: true,
    failureRules: [],
    retryWhen: null,
  };
}
