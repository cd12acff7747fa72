/**
 * Run CI/CD workflows under circuit-breaker protection.
 *
 * After enough failures of a flaky outside service (a deploy target, a registry, a staging
 * API), the breaker opens: later runs fail fast with a message that says when it will try
 * again, a limited number of probe runs test recovery, and the breaker closes by itself when
 * the service is back. Breaker state lives in a Dagger cache volume, so every `dagger call`
 * on an engine shares one set of breakers.
 */
import { func, object, argument, type CacheVolume, type Container, type Directory, type File, type Secret, type Service } from "@dagger.io/dagger";
import type { BreakerPermit } from "./dagger/breaker-permit.js";
import type { WorkflowRun } from "./dagger/workflow-run.js";
import { loadCalls } from "./load-calls.js";

/**
 * Circuit breakers for Dagger pipelines. Runs workflows from a YAML config, or any container
 * of yours, under a named breaker: closed lets calls through and counts failures, open fails
 * fast and says when it will probe again, half-open lets a few probes test recovery. State is
 * shared through a cache volume by every call on the engine, or through Redis (one server,
 * Sentinel or Cluster) by runners on many engines.
 */
@object()
export class CircuitBreaker {
  // Left undefined rather than null when not given: the SDK cannot serialise a null object field.
  stateVolume?: CacheVolume;
  redis?: Service;
  redisUrl?: string;
  redisPassword?: Secret;
  redisTls?: boolean;
  redisFailurePolicy?: string;
  redisKeyTtl?: number;
  redisSentinels?: string[];
  redisMasterName?: string;
  redisSentinelPassword?: Secret;
  redisClusterNodes?: string[];
  redisMinReplicas?: number;
  redisFailoverTimeout?: number;

  constructor(
    /**
     * Cache volume that holds breaker state. Defaults to this module's own volume
     * "circuit-breaker-state", shared by every caller of this module on the engine; pass a
     * volume to keep a separate set of breakers.
     */
    stateVolume?: CacheVolume,
    /** A Redis service to keep state in instead, shared by runners on different engines. */
    redis?: Service,
    /** Address of a Redis to keep state in instead, e.g. redis://redis.internal:6379/0 (rediss:// for TLS). */
    redisUrl?: string,
    /** Password of that Redis (of every node, behind Sentinel or in a Cluster). */
    redisPassword?: Secret,
    /** Connect to Redis with TLS (to the Sentinels too). */
    redisTls?: boolean,
    /**
     * When Redis is down, slower than 2 s, or (Sentinel, Cluster) without a primary for longer
     * than redis-failover-timeout: "fail-closed" (default: calls fail) or "fail-open" (calls run
     * unprotected).
     */
    redisFailurePolicy?: string,
    /**
     * Seconds after its last write that a breaker's Redis key expires, so breakers nobody uses
     * do not pile up (default: never). At least 60, and far above the longest open time
     * (max_reset_timeout): an expired key takes its breaker's state with it, so an open breaker
     * could vanish while open. Breakers tripped or disabled by hand never expire.
     */
    redisKeyTtl?: number,
    /**
     * Sentinels watching a Redis primary and its replicas, as HOST:PORT (26379 when no port),
     * e.g. 10.0.0.5:26379,10.0.0.6:26379,10.0.0.7:26379: state is kept on whichever node they
     * name primary, and found again after a failover. Needs redis-master-name.
     */
    redisSentinels?: string[],
    /** The name the Sentinels monitor the primary under (sentinel monitor NAME ... in sentinel.conf). */
    redisMasterName?: string,
    /** Password of the Sentinels themselves, when they have one (the data nodes' is redis-password). */
    redisSentinelPassword?: Secret,
    /**
     * Nodes of a Redis Cluster to keep state in, as HOST:PORT (6379 when no port); one reachable
     * node is enough to learn the rest. All breakers live in one hash slot.
     */
    redisClusterNodes?: string[],
    /**
     * Replicas that must acknowledge each state write (Redis WAIT) before it counts as done
     * (default: none). With 1 or more, what a call was told happened survives the primary's loss;
     * a write too few replicas acknowledge within the request's time fails the call under
     * redis-failure-policy.
     */
    redisMinReplicas?: number,
    /**
     * Sentinel or Cluster only: seconds a call waits for a new primary while a failover is under
     * way, before redis-failure-policy applies (default: 60, enough for a failover with Redis's
     * default timeouts).
     */
    redisFailoverTimeout?: number,
  ) {
    this.stateVolume = stateVolume;
    this.redis = redis;
    this.redisUrl = redisUrl;
    this.redisPassword = redisPassword;
    this.redisTls = redisTls;
    this.redisFailurePolicy = redisFailurePolicy;
    this.redisKeyTtl = redisKeyTtl;
    this.redisSentinels = redisSentinels;
    this.redisMasterName = redisMasterName;
    this.redisSentinelPassword = redisSentinelPassword;
    this.redisClusterNodes = redisClusterNodes;
    this.redisMinReplicas = redisMinReplicas;
    this.redisFailoverTimeout = redisFailoverTimeout;
  }

  /**
   * Run a workflow from the config under its circuit breaker and return its output.
   *
   * Fails fast, running nothing, while the breaker is open, with a message naming the
   * breaker, its failures and when the next probe is allowed. When the workflow fails, the
   * error names the failing step, its exit code and the tail of its output. A workflow with a
   * `fallback:` in the config returns the fallback's output instead of a refusal, with a warning.
   */
  @func({ cache: "never" })
  async execute(
    /** Name of the workflow under `workflows:` in the config. */
    workflow: string,
    /** Workflow config (YAML). Defaults to config/dagger.yaml of this module, which holds examples. */
    @argument({ defaultPath: "/config/dagger.yaml" }) config: File,
    /** Extra parameters, KEY=VALUE, given to every step as environment variables. */
    params: string[] = [],
    /**
     * Env var names for `secrets`, one per secret, in the same order. When omitted, each name is
     * taken from its secret's URI (env:DEPLOY_TOKEN is named DEPLOY_TOKEN); give them for file:
     * and other secrets, whose names cannot be derived.
     */
    secretNames: string[] = [],
    /**
     * Secrets the steps declare under `secrets:`, e.g. env:DEPLOY_TOKEN; exposed only as env vars
     * of the steps that list them, never written to state, logs or errors.
     */
    secrets: Secret[] = [],
    /** Source directory mounted at /src in every step (also their default workdir). */
    source?: Directory,
    /** Breaker to use instead of the workflow's own. */
    breaker?: string,
    /** Set false to run without the breaker: state is neither read nor changed. */
    useCircuitBreaker?: boolean,
    /** Let Dagger reuse cached step results; off by default so every step really runs. */
    caching?: boolean,
    /** Consecutive failures that open the breaker (trip_policy consecutive). */
    failureThreshold?: number,
    /** Seconds the breaker stays open before a probe is admitted. */
    resetTimeout?: number,
    /** Seconds a probe may overrun its expected time before it is taken for dead. */
    halfOpenTimeout?: number,
    /** Whole-workflow retries, with exponential backoff and jitter, inside one breaker call. */
    maxRetries?: number,
  ): Promise<string> {
    return (await loadCalls("workflow-actions")).execute(this, {
      workflow,
      config,
      params,
      secretNames,
      secrets,
      source: source ?? null,
      overrides: {
        breaker,
        useCircuitBreaker,
        caching,
        failureThreshold,
        resetTimeoutSeconds: resetTimeout,
        halfOpenTimeoutSeconds: halfOpenTimeout,
        maxRetries,
      },
    });
  }

  /**
   * Run a workflow like `execute`, but return how it went instead of failing: success,
   * breaker state, attempts, duration, output and error. For other modules that want to
   * inspect the result or fall back to something else when the breaker is open.
   */
  @func({ cache: "never" })
  async run(
    /** Name of the workflow under `workflows:` in the config. */
    workflow: string,
    /** Workflow config (YAML). Defaults to config/dagger.yaml of this module, which holds examples. */
    @argument({ defaultPath: "/config/dagger.yaml" }) config: File,
    /** Extra parameters, KEY=VALUE, given to every step as environment variables. */
    params: string[] = [],
    /**
     * Env var names for `secrets`, one per secret, in the same order. When omitted, each name is
     * taken from its secret's URI (env:DEPLOY_TOKEN is named DEPLOY_TOKEN); give them for file:
     * and other secrets, whose names cannot be derived.
     */
    secretNames: string[] = [],
    /**
     * Secrets the steps declare under `secrets:`, e.g. env:DEPLOY_TOKEN; exposed only as env vars
     * of the steps that list them, never written to state, logs or errors.
     */
    secrets: Secret[] = [],
    /** Source directory mounted at /src in every step (also their default workdir). */
    source?: Directory,
    /** Breaker to use instead of the workflow's own. */
    breaker?: string,
    /** Set false to run without the breaker: state is neither read nor changed. */
    useCircuitBreaker?: boolean,
    /** Let Dagger reuse cached step results; off by default so every step really runs. */
    caching?: boolean,
  ): Promise<WorkflowRun> {
    return (await loadCalls("workflow-actions")).run(this, {
      workflow,
      config,
      params,
      secretNames,
      secrets,
      source: source ?? null,
      overrides: { breaker, useCircuitBreaker, caching },
    });
  }

  /**
   * Evaluate a container pipeline of yours under a named breaker and return it evaluated.
   * A failing exec counts as a failure; while the breaker is open nothing is evaluated.
   *
   * Dagger caches exec results: a chain that already succeeded once is served from that cache
   * and recorded as a success without touching the service (failures are not cached). Put a
   * fresh value in the chain so its exec really runs, e.g.
   * `.withEnvVariable("CACHE_BUSTER", Date.now().toString())` before the last `withExec`.
   */
  @func({ cache: "never" })
  async protect(
    /**
     * The pipeline to evaluate, e.g. a container whose last exec calls the flaky service. Give
     * it a fresh value (see above), or a past success is replayed from the cache.
     */
    container: Container,
    /** Breaker name: letters, digits, ".", "_" and "-". */
    breaker: string,
    /** Config whose settings the breaker uses (a workflow with this breaker, else the global section). Built-in defaults when omitted. */
    config?: File,
  ): Promise<Container> {
    return (await loadCalls("permit-actions")).protect(this, container, breaker, config ?? null);
  }

  /**
   * Ask a breaker for permission to make one call, for pipelines that are not one container.
   * Fails with the same message as `execute` while the breaker is open. Record the outcome
   * with `record` (or give the permit back with `cancel`).
   */
  @func({ cache: "never" })
  async acquire(
    /** Breaker name: letters, digits, ".", "_" and "-". */
    breaker: string,
    /** Config whose settings the breaker uses (a workflow with this breaker, else the global section). Built-in defaults when omitted. */
    config?: File,
    /** Seconds the call may take; a probe keeps its slot this long plus half_open_timeout. */
    expectedDuration?: number,
  ): Promise<BreakerPermit> {
    return (await loadCalls("permit-actions")).acquire(this, breaker, config ?? null, expectedDuration ?? null);
  }

  /** Record how a call made under a permit went; returns the breaker's status afterwards. */
  @func({ cache: "never" })
  async record(
    /** The `token` of the permit `acquire` returned. */
    permit: string,
    /** True when the call succeeded. */
    success: boolean,
    /** What went wrong, shown as the breaker's last error. */
    error?: string,
    /** Exit code of the failed call; codes listed in ignored_exit_codes do not count. */
    exitCode?: number,
    /** How long the call took in milliseconds; measured from the permit when omitted. */
    durationMs?: number,
  ): Promise<string> {
    return (await loadCalls("permit-actions")).record(this, permit, {
      success,
      error: error ?? null,
      exitCode: exitCode ?? null,
      durationMs: durationMs ?? null,
    });
  }

  /** Give a permit back without an outcome, when the call never ran; it does not count. */
  @func({ cache: "never" })
  async cancel(
    /** The `token` of the permit `acquire` returned. */
    permit: string,
  ): Promise<string> {
    return (await loadCalls("permit-actions")).cancel(this, permit);
  }

  /**
   * Breaker counters and states in the Prometheus text format, for a Pushgateway or
   * node-exporter's textfile directory.
   */
  @func({ cache: "never" })
  async metrics(
    /**
     * Only breakers whose name starts with this, e.g. registry- for the per-key breakers of
     * breaker: "registry-${REGISTRY_HOST}"; all breakers when omitted.
     */
    prefix?: string,
  ): Promise<string> {
    return (await loadCalls("state-actions")).metrics(this, prefix ?? null);
  }

  /** Show breakers as a table (state, failures, last error, next probe), as JSON or as Markdown. */
  @func({ cache: "never" })
  async status(
    /** Show only this breaker; all breakers when omitted. */
    breaker?: string,
    /**
     * "table" for people, "json" for programs (a versioned shape, see the README), "markdown"
     * for a CI job's summary page ($GITHUB_STEP_SUMMARY, a GitLab job summary): a table whose
     * error text is escaped so it cannot add links, images or HTML.
     */
    format: string = "table",
    /** Only breakers whose name starts with this, e.g. registry-; not together with breaker. */
    prefix?: string,
  ): Promise<string> {
    return (await loadCalls("state-actions")).status(this, breaker ?? null, format, prefix ?? null);
  }

  /** Show a breaker's recent transitions: time, from, to and reason. */
  @func({ cache: "never" })
  async history(
    /** Breaker name. */
    breaker: string,
  ): Promise<string> {
    return (await loadCalls("state-actions")).history(this, breaker);
  }

  /**
   * Draw a breaker's history as an SVG picture: its states over time as coloured bands
   * (closed, open, half-open, forced open, disabled) with the open times, counted and neutral
   * failures and probes as marks, and a legend. Drawn from what the state keeps (the last
   * history_size transitions, the last counted and the last neutral failure). Self-contained:
   * no script, links or external fonts; follows the viewer's light or dark theme. Save it with
   * `export --path history.svg`.
   */
  @func({ cache: "never" })
  async historyChart(
    /** Breaker name. */
    breaker: string,
  ): Promise<File> {
    return (await loadCalls("state-actions")).historyChart(this, breaker);
  }

  /** Close a breaker by hand and clear its failure counts. Also the recovery for unreadable state. */
  @func({ cache: "never" })
  async reset(
    /** Breaker name. */
    breaker: string,
    /** Config whose on_transition alert to run when this closes the breaker; no alert when omitted. */
    config?: File,
    /** Secrets the alert workflow's steps need, each named by its env: variable or setSecret name (--secrets env:CHAT_WEBHOOK gives CHAT_WEBHOOK). */
    secrets: Secret[] = [],
  ): Promise<string> {
    return (await loadCalls("state-actions")).control(this, "reset", breaker, null, config ?? null, secrets);
  }

  /** Force a breaker open, so calls fail fast, until reset or for a number of seconds. */
  @func({ cache: "never" })
  async trip(
    /** Breaker name. */
    breaker: string,
    /** Seconds to stay open, after which probes are admitted; until reset when omitted. */
    duration?: number,
    /** Config whose on_transition alert to run for this forced open; no alert when omitted. */
    config?: File,
    /** Secrets the alert workflow's steps need, each named by its env: variable or setSecret name (--secrets env:CHAT_WEBHOOK gives CHAT_WEBHOOK). */
    secrets: Secret[] = [],
  ): Promise<string> {
    return (await loadCalls("state-actions")).control(this, "trip", breaker, duration ?? null, config ?? null, secrets);
  }

  /** Let every call through a breaker while still counting outcomes, until reset. */
  @func({ cache: "never" })
  async disable(
    /** Breaker name. */
    breaker: string,
  ): Promise<string> {
    return (await loadCalls("state-actions")).control(this, "disable", breaker, null);
  }

  /**
   * Remove breakers nobody has used for a while (no acquire, record, cancel, reset, trip or
   * disable), so per-key breakers do not make state grow without bound. Never removes a breaker
   * tripped or disabled by hand, one with probes or calls in flight, one still open, or one
   * whose state cannot be read. Prints what was removed and what was kept, and why.
   */
  @func({ cache: "never" })
  async prune(
    /** Remove breakers last used longer ago than this: a whole number and a unit, e.g. 30d, 12h, 90m or 45s. */
    unusedFor: string,
    /** Only say what would be removed; remove nothing. */
    dryRun: boolean = false,
  ): Promise<string> {
    return (await loadCalls("state-actions")).prune(this, unusedFor, dryRun);
  }

  /** List the workflows of a config with their breakers and step counts. */
  @func()
  async listWorkflows(
    /** Workflow config (YAML). Defaults to config/dagger.yaml of this module. */
    @argument({ defaultPath: "/config/dagger.yaml" }) config: File,
  ): Promise<string> {
    return (await loadCalls("config-actions")).listWorkflows(config);
  }

  /** Check a config file; errors give file, line, column and key path, with a fix. */
  @func()
  async validateConfig(
    /** Workflow config (YAML) to check. */
    config: File,
  ): Promise<string> {
    return (await loadCalls("config-actions")).validateConfig(config);
  }
}
