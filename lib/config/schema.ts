/**
 * The shape of config/dagger.yaml. Every key carries a description (shown by editors through the
 * generated JSON Schema) and every check carries a message that says what is expected.
 *
 * Keys are optional wherever a lower level can supply them, and no defaults are filled in here:
 * resolution needs to know which level set a key to apply precedence.
 */
import { z } from "zod";
import { validateBreakerName, MAX_NAME_LENGTH } from "../core/names.js";
import { breakerTemplateProblem, TEMPLATE_PATTERN_FOR_EDITORS } from "./breaker-template.js";
import { DEFAULT_BREAKER_SETTINGS, DEFAULT_CACHING, DEFAULT_PROBE_TIMEOUT_SECONDS, DEFAULT_RETRY_SETTINGS, DEFAULT_USE_CIRCUIT_BREAKER } from "./defaults.js";
import { patternProblem } from "./output-pattern.js";
import { didYouMean } from "./suggest.js";
import { envNameProblem, ENV_NAME_PATTERN, requirement, showValue } from "./value-rules.js";

/** What zod hands an error function; only the offending input is needed. */
interface IssueInput {
  input?: unknown;
}

const mustBe = (what: string) => (issue: IssueInput) => `must be ${what}, got ${showValue(issue.input)}`;

function wholeNumber(min: number, max?: number) {
  const message = mustBe(max === undefined ? requirement.wholeNumberAtLeast(min) : requirement.wholeNumberBetween(min, max));
  const atLeast = z.number({ error: message }).int({ error: message }).min(min, { error: message });
  return max === undefined ? atLeast : atLeast.max(max, { error: message });
}

function positiveSeconds() {
  const message = mustBe(requirement.positiveSeconds);
  return z.number({ error: message }).positive({ error: message });
}

function nonNegativeSeconds() {
  const message = mustBe(requirement.nonNegativeSeconds);
  return z.number({ error: message }).min(0, { error: message });
}

function fraction(what: string, exclusiveMinimum: boolean) {
  const message = mustBe(what);
  const number = z.number({ error: message });
  return (exclusiveMinimum ? number.positive({ error: message }) : number.min(0, { error: message })).max(1, {
    error: message,
  });
}

const flag = () => z.boolean({ error: mustBe(requirement.boolean) });

/** Mirrors the pattern in lib/core/names.ts, which is not exported. */
export const NAME_PATTERN_FOR_EDITORS = "^[A-Za-z0-9][A-Za-z0-9._-]*$";

/** Breaker, workflow and step names share the breaker-name rules: they may become breaker names. */
function name(what: "workflow name" | "step name" | "breaker name" | "cache volume name") {
  return z
    .string({ error: mustBe(`a ${what} (a string)`) })
    .superRefine((value, ctx) => {
      try {
        validateBreakerName(value, what);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: error instanceof Error ? error.message : String(error) });
      }
    })
    // For editors only; validateBreakerName above is what decides. tests/config keeps the two in step.
    .meta({ pattern: NAME_PATTERN_FOR_EDITORS, maxLength: MAX_NAME_LENGTH });
}

/** A breaker name, or a template of one over the call's params and the workflow's env: "registry-${REGISTRY_HOST}". */
function breakerNameOrTemplate() {
  return z
    .string({ error: mustBe("a breaker name (a string)") })
    .superRefine((value, ctx) => {
      const problem = breakerTemplateProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
    })
    // For editors only; a template's length is only known once filled, so no maxLength here.
    .meta({ pattern: TEMPLATE_PATTERN_FOR_EDITORS });
}

/** An absolute path inside a container, such as /root/.npm. */
function mountPath() {
  return z
    .string({ error: mustBe("an absolute path such as /root/.npm") })
    .regex(/^\/[^\0]*$/, { error: (issue: IssueInput) => `must be an absolute path such as /root/.npm, got ${showValue(issue.input)}` });
}

function envName(what: string) {
  return z
    .string({ error: mustBe(`${what} (a string)`) })
    .superRefine((value, ctx) => {
      const problem = envNameProblem(value, what);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
    })
    .meta({ pattern: ENV_NAME_PATTERN.source });
}

/** YAML reads `8080` and `true` as a number and a boolean; a string needs quotes. */
const quotedString = (issue: IssueInput) =>
  typeof issue.input === "number" || typeof issue.input === "boolean"
    ? `must be a string, got ${showValue(issue.input)}: quote the value, e.g. ${JSON.stringify(String(issue.input))}`
    : `must be a string, got ${showValue(issue.input)}: quote the value`;

const envValue = z.string({ error: quotedString });

const envMap = z
  .record(envName("env var name"), envValue, {
    error: mustBe('a map of NAME: "value" pairs'),
  })
  .meta({ examples: [{ LOG_LEVEL: "debug" }] });

const TRIP_POLICIES = ["consecutive", "failure_rate", "failure_count"] as const;

/** At most `calls` admitted calls in any `period_seconds`, across the fleet. */
export const rateLimitSchema = z
  .strictObject({
    calls: wholeNumber(1).describe("Calls admitted per period, across every caller sharing the state."),
    period_seconds: positiveSeconds().describe("Seconds of the sliding period, kept in 60 buckets: a slot frees up to period_seconds/60 s late."),
  })
  .describe(
    "Fleet-wide rate limit: at most calls admitted calls in any period_seconds. A call over it waits up to queue_timeout, then is refused; a refusal runs nothing and never counts against the service.",
  )
  .meta({ examples: [{ calls: 10, period_seconds: 3600 }] });

/** Retries across the fleet, as a share of first attempts. */
export const retryBudgetSchema = z
  .strictObject({
    ratio: z
      .number({ error: mustBe("a number of 0 or more, such as 0.2") })
      .min(0, { error: mustBe("a number of 0 or more, such as 0.2") })
      .describe("Retries allowed per first attempt admitted within the window (0.2: one retry for every five calls).")
      .meta({ default: 0.2 }),
    min_retries_per_minute: nonNegativeSeconds()
      .describe("Retries always allowed per minute of the window, whatever the first attempts, so a quiet breaker can still retry.")
      .meta({ default: 10 }),
    window_seconds: positiveSeconds().describe("Seconds of the sliding window the budget is counted over.").meta({ default: 60 }),
  })
  .partial()
  .describe(
    "Fleet-wide retry budget: step and workflow retries by every caller sharing the state are limited to ratio × first attempts + min_retries_per_minute × minutes, within window_seconds. A retry over budget is not made: the call fails with its last error.",
  )
  .meta({ examples: [{ ratio: 0.2, min_retries_per_minute: 10, window_seconds: 60 }] });
const BREAKER_MODES = ["enforce", "observe"] as const;

/** Any subset of these may appear globally and per workflow. */
export const breakerSettingsSchema = z
  .strictObject({
    failure_threshold: wholeNumber(1)
      .describe("Failures that open the breaker: in a row (trip_policy: consecutive), or within window_seconds (trip_policy: failure_count).")
      .meta({ default: DEFAULT_BREAKER_SETTINGS.failure_threshold }),
    reset_timeout: positiveSeconds()
      .describe("Seconds the breaker stays open before it admits a probe call.")
      .meta({ default: DEFAULT_BREAKER_SETTINGS.reset_timeout }),
    half_open_timeout: positiveSeconds()
      .describe(
        "Seconds a probe may run without reporting before its slot is freed and it counts as a failure. Set it above the workflow's longest expected run.",
      )
      .meta({ default: DEFAULT_BREAKER_SETTINGS.half_open_timeout }),
    half_open_max_probes: wholeNumber(1)
      .describe("Probe calls admitted at the same time while half-open.")
      .meta({ default: DEFAULT_BREAKER_SETTINGS.half_open_max_probes }),
    success_threshold: wholeNumber(1)
      .describe("Probe successes needed to close the breaker again.")
      .meta({ default: DEFAULT_BREAKER_SETTINGS.success_threshold }),
    trip_policy: z
      .enum(TRIP_POLICIES, {
        error: (issue: IssueInput) =>
          `must be "consecutive" or "failure_rate", got ${showValue(issue.input)}` +
          (typeof issue.input === "string" ? didYouMean(issue.input, TRIP_POLICIES) : ""),
      })
      .describe(
        "When the breaker opens: after failure_threshold failures in a row (consecutive); when the failure rate over the last window_size calls, or over the last window_seconds, reaches failure_rate_threshold (failure_rate); or after failure_threshold failures within window_seconds, whatever successes fall between them (failure_count).",
      )
      .meta({ default: DEFAULT_BREAKER_SETTINGS.trip_policy }),
    failure_rate_threshold: fraction(requirement.rate, true)
      .describe("Fraction of failed calls that opens the breaker (trip_policy: failure_rate).")
      .meta({ default: DEFAULT_BREAKER_SETTINGS.failure_rate_threshold }),
    window_size: wholeNumber(1)
      .describe("Number of most recent outcomes the failure rate is computed over (trip_policy: failure_rate).")
      .meta({ default: DEFAULT_BREAKER_SETTINGS.window_size }),
    minimum_calls: wholeNumber(1)
      .describe("The failure rate decides only once this many outcomes are in the window; at most window_size.")
      .meta({ default: DEFAULT_BREAKER_SETTINGS.minimum_calls }),
    window_seconds: positiveSeconds()
      .nullable()
      .describe(
        "Seconds of a time-based window: failure_rate then counts the outcomes of the last window_seconds instead of the last window_size, and failure_count needs it. Kept in 60 buckets: an outcome leaves the window between window_seconds and window_seconds + window_seconds/60 after it was recorded.",
      )
      .meta({ default: DEFAULT_BREAKER_SETTINGS.window_seconds }),
    reset_timeout_multiplier: z
      .number({ error: mustBe(requirement.multiplier) })
      .min(1, { error: mustBe(requirement.multiplier) })
      .describe("Each re-open after a failed probe multiplies the open time by this; 1 keeps it fixed.")
      .meta({ default: DEFAULT_BREAKER_SETTINGS.reset_timeout_multiplier }),
    max_reset_timeout: positiveSeconds()
      .describe("Seconds: upper bound of the open time grown by reset_timeout_multiplier.")
      .meta({ default: DEFAULT_BREAKER_SETTINGS.max_reset_timeout }),
    slow_call_threshold: positiveSeconds()
      .nullable()
      .describe("Seconds: successful calls slower than this count as failures; null turns it off.")
      .meta({ default: DEFAULT_BREAKER_SETTINGS.slow_call_threshold }),
    ignored_exit_codes: z
      .array(wholeNumber(0, 255), { error: mustBe("a list of exit codes such as [75]") })
      .describe('Exit codes of a failed step that do not count as breaker failures (e.g. 75, "try again later").')
      .meta({ default: [...DEFAULT_BREAKER_SETTINGS.ignored_exit_codes] }),
    history_size: wholeNumber(1)
      .describe("How many state transitions the breaker keeps for its history.")
      .meta({ default: DEFAULT_BREAKER_SETTINGS.history_size }),
    max_concurrent_calls: wholeNumber(1)
      .nullable()
      .describe(
        "Calls admitted at once across every runner sharing the state; null: no limit. Each holds a slot until it reports, or until its expected duration (from timeout_seconds) plus half_open_timeout has passed, so a killed runner's slot comes back. A call refused for a full limit is not a failure and never opens the breaker.",
      )
      .meta({ default: DEFAULT_BREAKER_SETTINGS.max_concurrent_calls }),
    queue_timeout: nonNegativeSeconds()
      .describe("Seconds a call over max_concurrent_calls or rate_limit waits for a slot, polling with backoff, before it is refused; 0 refuses at once.")
      .meta({ default: DEFAULT_BREAKER_SETTINGS.queue_timeout }),
    mode: z
      .enum(BREAKER_MODES, {
        error: (issue: IssueInput) =>
          `must be "enforce" or "observe", got ${showValue(issue.input)}` +
          (typeof issue.input === "string" ? didYouMean(issue.input, BREAKER_MODES) : ""),
      })
      .describe(
        "enforce: refuse calls as the breaker says; observe: count outcomes and change state as usual but refuse nothing, counting each call that would have been refused (for rolling out a new threshold).",
      )
      .meta({ default: DEFAULT_BREAKER_SETTINGS.mode }),
    reset_timeout_jitter: fraction(requirement.fraction, false)
      .describe("Fraction of random spread (±) applied to the open time, so breakers that opened together do not all probe at the same second.")
      .meta({ default: DEFAULT_BREAKER_SETTINGS.reset_timeout_jitter }),
    rate_limit: rateLimitSchema.nullable().meta({ default: DEFAULT_BREAKER_SETTINGS.rate_limit }),
    retry_budget: retryBudgetSchema.nullable().meta({ default: DEFAULT_BREAKER_SETTINGS.retry_budget }),
  })
  .partial()
  .describe("Circuit breaker settings; any subset may be given.");

export const retrySettingsSchema = z
  .strictObject({
    max_retries: wholeNumber(0)
      .describe("Whole-workflow retries inside one breaker call; the call counts once for the breaker.")
      .meta({ default: DEFAULT_RETRY_SETTINGS.max_retries }),
    backoff_factor: nonNegativeSeconds()
      .describe("Seconds; the delay before retry n is backoff_factor * 2^(n-1).")
      .meta({ default: DEFAULT_RETRY_SETTINGS.backoff_factor }),
    jitter: fraction(requirement.fraction, false)
      .describe("Fraction of random spread applied to each retry delay.")
      .meta({ default: DEFAULT_RETRY_SETTINGS.jitter }),
  })
  .partial()
  .describe("Retry settings; any subset may be given.");

const COMMAND_EXAMPLE = '["sh", "-c", "..."]';

function outputPattern(captureGroups: "any" | "at least one") {
  return z
    .string({ error: quotedString })
    .superRefine((value, ctx) => {
      const problem = patternProblem(value, captureGroups);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
    });
}

const exitCodes = () =>
  z
    .array(wholeNumber(0, 255), { error: mustBe("a list of exit codes such as [7, 28]") })
    .min(1, { error: "must list at least one exit code, e.g. [7]" });

const matcherShape = {
  exit_codes: exitCodes().optional().describe("Exit codes the failure must have (any of them)."),
  output: outputPattern("any")
    .optional()
    .describe(
      "Regular expression (JavaScript syntax, case-insensitive) that some line of the step's output must match; the last 500 lines of stdout then stderr are searched, each cut to 1000 characters.",
    )
    .meta({ examples: ["connection refused|503 Service Unavailable|toomanyrequests"] }),
};

const needsOneCondition = (value: { exit_codes?: unknown; output?: unknown }, ctx: z.RefinementCtx) => {
  if (value.exit_codes === undefined && value.output === undefined) {
    ctx.addIssue({ code: "custom", message: 'must give exit_codes, output, or both, e.g. { output: "connection refused" }' });
  }
};

const FAILURE_ACTIONS = ["count", "ignore"] as const;

/** A failure rule: when it matches a failed step, it decides whether the failure counts against the breaker. */
export const failureRuleSchema = z
  .strictObject({
    ...matcherShape,
    action: z
      .enum(FAILURE_ACTIONS, {
        error: (issue: IssueInput) =>
          `must be "count" or "ignore", got ${showValue(issue.input)}` +
          (typeof issue.input === "string" ? didYouMean(issue.input, FAILURE_ACTIONS) : ""),
      })
      .describe("count: the failure counts against the breaker; ignore: it is recorded as neutral."),
  })
  .superRefine(needsOneCondition)
  .describe("Matches a failed step by exit code and/or output; every condition given must hold.");

/** A retry condition: a failure that matches it may be retried. */
export const retryConditionSchema = z
  .strictObject(matcherShape)
  .superRefine(needsOneCondition)
  .describe("Matches a failed step by exit code and/or output; every condition given must hold.");

const failureRules = () =>
  z
    .array(failureRuleSchema, { error: mustBe('a list of rules such as [{ output: "503", action: count }]') })
    .describe(
      "Rules deciding whether a failure counts against the breaker; the first that matches wins, the step's own before the workflow's.",
    );

const retryWhen = () =>
  z
    .array(retryConditionSchema, { error: mustBe('a list of conditions such as [{ output: "toomanyrequests" }]') })
    .describe("Only failures matching one of these are retried; without it every failure is retried.");

export const stepSchema = z
  .strictObject({
    name: name("step name").describe("Step name, unique within the workflow; depends_on refers to it."),
    image: z
      .string({ error: mustBe('a container image reference such as "alpine:3.20"') })
      .min(1, { error: 'must be a container image reference such as "alpine:3.20", got an empty string' })
      .describe("Container image the step runs in.")
      .meta({ examples: ["alpine:3.20"] }),
    command: z
      .array(z.string({ error: quotedString }), {
        error: (issue: IssueInput) =>
          typeof issue.input === "string"
            ? `must be a list of strings, not a single string: use a list, e.g. ${COMMAND_EXAMPLE}`
            : `must be a list of strings, got ${showValue(issue.input)}: use a list, e.g. ${COMMAND_EXAMPLE}`,
      })
      .min(1, { error: `must not be empty: give the program and its arguments, e.g. ${COMMAND_EXAMPLE}` })
      .describe("The program and its arguments, run without a shell unless you call one.")
      .meta({ examples: [["sh", "-c", "echo hello"]] }),
    env: envMap.optional().describe("Environment variables for this step; they win over the workflow's env."),
    workdir: z
      .string({ error: mustBe("a directory path such as /src") })
      .min(1, { error: "must be a directory path such as /src, got an empty string" })
      .optional()
      .describe("Working directory inside the container."),
    depends_on: z
      .array(name("step name"), { error: mustBe("a list of step names such as [build]") })
      .optional()
      .describe("Steps of the same workflow that must succeed before this one starts."),
    timeout_seconds: wholeNumber(1).optional().describe("Seconds the step may run before it is stopped and fails."),
    retries: wholeNumber(0)
      .optional()
      .describe("Times this step alone is retried before the workflow fails.")
      .meta({ default: 0 }),
    secrets: z
      .array(envName("secret name"), { error: mustBe("a list of secret names such as [DEPLOY_TOKEN]") })
      .optional()
      .describe("Names of secrets passed by the caller; each is exposed to this step as an env var of the same name."),
    cache_volumes: z
      .record(mountPath(), name("cache volume name"), { error: mustBe('a map of /path: volume-name, e.g. { /root/.npm: npm-cache }') })
      .optional()
      .describe(
        "Dagger cache volumes mounted into the step, shared by every run on the engine (SHARED): absolute path to volume name. For package caches, or for steps that hand files to later runs.",
      )
      .meta({ examples: [{ "/root/.npm": "npm-cache" }] }),
    guarded: flag()
      .optional()
      .describe(
        "Whether this step's failures count against the breaker when no failure rule matches. Set false on build and test steps: their failure fails the workflow but is recorded as neutral.",
      )
      .meta({ default: true }),
    failure_rules: failureRules().optional(),
    retry_when: retryWhen().optional(),
  })
  .describe("One container run.");

/** A health check run as the half-open probe, before the workflow's own steps. */
export const probeSchema = z
  .strictObject({
    image: stepSchema.shape.image,
    command: stepSchema.shape.command,
    env: envMap.optional().describe("Environment variables for the probe; they win over the workflow's env."),
    timeout_seconds: wholeNumber(1)
      .optional()
      .describe("Seconds the probe may run before it is stopped and fails.")
      .meta({ default: DEFAULT_PROBE_TIMEOUT_SECONDS }),
    secrets: stepSchema.shape.secrets,
  })
  .describe(
    "A cheap health check (e.g. a curl of the service) run as the half-open probe before the workflow: if it fails the breaker re-opens and the workflow does not run.",
  );

/** The name of a workflow run as an alert on breaker transitions. */
const onTransition = () =>
  name("workflow name")
    .optional()
    .describe(
      "A workflow of this file run, unprotected, by the call that opened, closed or forced open a breaker, exactly once per transition. Its steps get CIRCUIT_BREAKER_NAME, CIRCUIT_BREAKER_FROM, CIRCUIT_BREAKER_TO, CIRCUIT_BREAKER_REASON and CIRCUIT_BREAKER_LAST_ERROR as env; its failures are warnings and never count.",
    )
    .meta({ examples: ["notify-oncall"] });

export const workflowSchema = z
  .strictObject({
    description: z.string({ error: quotedString }).optional().describe("What the workflow does; shown by list."),
    breaker: breakerNameOrTemplate()
      .optional()
      .describe(
        'Breaker guarding this workflow; defaults to the workflow name. Workflows may share a breaker. ${NAME} placeholders are filled from the call\'s --params, then the workflow\'s env, giving one breaker per value (e.g. "registry-${REGISTRY_HOST}"); "$" is allowed only in a placeholder.',
      ),
    use_circuit_breaker: flag()
      .optional()
      .describe("Whether calls go through the breaker at all.")
      .meta({ default: DEFAULT_USE_CIRCUIT_BREAKER }),
    caching: flag()
      .optional()
      .describe("Let Dagger answer steps from its layer cache. Off by default so that every step really runs.")
      .meta({ default: DEFAULT_CACHING }),
    env: envMap.optional().describe("Environment variables for every step; a step's own env wins."),
    circuit_breaker: breakerSettingsSchema
      .optional()
      .describe("Breaker settings for this workflow; they win over the global circuit_breaker section."),
    retry: retrySettingsSchema.optional().describe("Retry settings for this workflow; they win over the global retry section."),
    timeout_seconds: wholeNumber(1)
      .optional()
      .describe("Seconds the whole workflow may run, every attempt and backoff included; a step still running then is stopped and fails."),
    failure_rules: failureRules().optional(),
    retry_when: retryWhen().optional(),
    retry_after: outputPattern("at least one")
      .optional()
      .describe(
        "Regular expression whose first capture group reads the wait a failing service asks for (seconds, or a number with ms, s, m or h). When that failure opens the breaker, it stays open that long, at most max_reset_timeout.",
      )
      .meta({ examples: ["Retry-After:\\s*(\\d+)", "retry in (\\d+\\s*[smh])"] }),
    probe: probeSchema.optional(),
    on_transition: onTransition().describe("The alert workflow for this workflow's breaker; it wins over the top-level on_transition."),
    fallback: name("workflow name")
      .optional()
      .describe(
        "A workflow of this file run instead when the breaker refuses the call (open, half-open with its probe slots taken, a full concurrency or rate limit). It runs under its own breaker and never counts against this one; its steps get CIRCUIT_BREAKER_FALLBACK_REASON, CIRCUIT_BREAKER_NAME, CIRCUIT_BREAKER_STATE and CIRCUIT_BREAKER_RETRY_AT as env. It may not have a fallback of its own.",
      )
      .meta({ examples: ["deploy-from-cache"] }),
    fallback_on_failure: flag()
      .optional()
      .describe("Also run the fallback when the workflow ran and failed (including a retry the retry budget refused).")
      .meta({ default: false }),
    steps: z
      .array(stepSchema, { error: mustBe("a list of steps") })
      .min(1, { error: "a workflow needs at least one step: add steps: [{ name: ..., image: ..., command: [...] }]" })
      .describe("The steps; they run in depends_on order, independent steps concurrently."),
  })
  .describe("A workflow: steps run under one breaker.");

export const configSchema = z
  .strictObject({
    circuit_breaker: breakerSettingsSchema.optional().describe("Breaker settings for every workflow."),
    retry: retrySettingsSchema.optional().describe("Retry settings for every workflow."),
    on_transition: onTransition(),
    probes: z
      .record(breakerNameOrTemplate(), probeSchema, { error: mustBe("a map of breaker name: probe") })
      .optional()
      .describe(
        "Health probes by breaker name, for every workflow guarded by that breaker that has no probe of its own. A templated breaker's probe is keyed by the template as written.",
      ),
    workflows: z
      .record(name("workflow name"), workflowSchema, { error: mustBe("a map of workflow name: workflow") })
      .superRefine((workflows, ctx) => {
        if (Object.keys(workflows).length === 0) {
          ctx.addIssue({ code: "custom", message: "no workflows defined: add at least one, e.g. hello: { steps: [...] }" });
        }
      })
      .describe("Workflows by name."),
  })
  .meta({
    title: "circuit-breaker config (config/dagger.yaml)",
    description: "Workflows run by the circuit-breaker Dagger module, and the breaker settings that guard them.",
  });

export type BreakerSettings = z.output<typeof breakerSettingsSchema>;
export type RetryBudgetSettings = z.output<typeof retryBudgetSchema>;
export type RetrySettings = z.output<typeof retrySettingsSchema>;
export type StepConfig = z.output<typeof stepSchema>;
export type ProbeConfig = z.output<typeof probeSchema>;
export type FailureRuleConfig = z.output<typeof failureRuleSchema>;
export type RetryConditionConfig = z.output<typeof retryConditionSchema>;
export type WorkflowConfig = z.output<typeof workflowSchema>;
/** A validated config file. */
export type Config = z.output<typeof configSchema>;
