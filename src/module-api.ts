/**
 * What the module's face (src/index.ts) asks of the code in lib/, as types only. The runtime
 * scans and imports every file under src/ on every call, and its scanner follows every
 * string-literal import; so lib/ is loaded at call time by a computed specifier (see
 * load-calls.ts), only the part a function needs, and these types are all src/ knows of it.
 * Each entry file in lib/dagger/ declares its default export with one of these types, so
 * the compiler keeps the two sides in step.
 */
import type { CacheVolume, Container, Directory, File, Secret, Service } from "@dagger.io/dagger";
import type { BreakerPermit } from "./dagger/breaker-permit.js";
import type { WorkflowRun } from "./dagger/workflow-run.js";

/** Where breaker state lives, as the constructor's arguments chose it. */
export interface StoreChoice {
  stateVolume?: CacheVolume;
  redis?: Service;
  redisUrl?: string;
  redisPassword?: Secret;
  redisTls?: boolean;
  redisFailurePolicy?: string;
  /** Seconds after its last write that a breaker's Redis key expires; unset: never. */
  redisKeyTtl?: number;
  /** HOST:PORT of each Sentinel watching the primary. */
  redisSentinels?: string[];
  /** The name the Sentinels monitor the primary under. */
  redisMasterName?: string;
  redisSentinelPassword?: Secret;
  /** HOST:PORT of Cluster nodes to learn the cluster from. */
  redisClusterNodes?: string[];
  /** Replicas that must acknowledge each write (WAIT); unset or 0: none. */
  redisMinReplicas?: number;
  /** Seconds a request waits for a new primary during a failover (Sentinel or Cluster). */
  redisFailoverTimeout?: number;
}

/** One workflow run asked for by `execute` or `run`. */
export interface WorkflowCall {
  workflow: string;
  config: File;
  params: string[];
  secretNames: string[];
  secrets: Secret[];
  source: Directory | null;
  overrides: {
    breaker?: string;
    useCircuitBreaker?: boolean;
    caching?: boolean;
    failureThreshold?: number;
    resetTimeoutSeconds?: number;
    halfOpenTimeoutSeconds?: number;
    maxRetries?: number;
  };
}

export interface WorkflowCalls {
  execute(choice: StoreChoice, call: WorkflowCall): Promise<string>;
  run(choice: StoreChoice, call: WorkflowCall): Promise<WorkflowRun>;
}

export interface PermitCalls {
  protect(choice: StoreChoice, container: Container, breaker: string, config: File | null): Promise<Container>;
  acquire(choice: StoreChoice, breaker: string, config: File | null, expectedDurationSeconds: number | null): Promise<BreakerPermit>;
  record(
    choice: StoreChoice,
    token: string,
    outcome: { success: boolean; error: string | null; exitCode: number | null; durationMs: number | null },
  ): Promise<string>;
  cancel(choice: StoreChoice, token: string): Promise<string>;
}

export interface StateCalls {
  /** `prefix`: only breakers whose name starts with it; null: all. */
  metrics(choice: StoreChoice, prefix: string | null): Promise<string>;
  status(choice: StoreChoice, breaker: string | null, format: string, prefix: string | null): Promise<string>;
  history(choice: StoreChoice, breaker: string): Promise<string>;
  /** An SVG picture of the breaker's history. */
  historyChart(choice: StoreChoice, breaker: string): Promise<File>;
  control(
    choice: StoreChoice,
    op: "reset" | "trip" | "disable",
    breaker: string,
    durationSeconds: number | null,
    config?: File | null,
    secrets?: Secret[],
  ): Promise<string>;
  /** `unusedFor` as the caller typed it (`30d`); checked before any state is touched. */
  prune(choice: StoreChoice, unusedFor: string, dryRun: boolean): Promise<string>;
}

export interface ConfigCalls {
  listWorkflows(config: File): Promise<string>;
  validateConfig(config: File): Promise<string>;
}

/** The entry files of lib/dagger/ and what each one's default export provides. */
export interface CallEntries {
  "workflow-actions": WorkflowCalls;
  "permit-actions": PermitCalls;
  "state-actions": StateCalls;
  "config-actions": ConfigCalls;
}
