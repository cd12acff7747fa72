/**
 * Examples of the circuit-breaker module, used from another module.
 *
 * Each function is a Daggerverse example (named after the convention for TypeScript examples:
 * `circuitBreakerProtect` shows `protect`, `circuitBreakerRun_fallback` a "fallback" example of
 * `run`, `circuitBreaker_sharedBreaker` a module-level one), and each is run by the module's
 * tests, so the examples cannot drift from the module they show.
 *
 * The workflows come from the module's own config/dagger.yaml: `deploy-staging` and
 * `smoke-staging` share the breaker `staging-api`, which opens after three consecutive failures.
 */
import { randomUUID } from "node:crypto";
import {
  argument,
  type CircuitBreakerWorkflowRun,
  dag,
  func,
  object,
  ReturnType,
  type File,
} from "@dagger.io/dagger";

/**
 * `run` is never cached, so every query that reaches it runs the workflow again, and the client
 * sends one query per field it reads. Read the result's ID once (one run) and load the result
 * from it: every field read from the loaded object is served from that one result.
 */
async function once(run: CircuitBreakerWorkflowRun): Promise<CircuitBreakerWorkflowRun> {
  return dag.loadCircuitBreakerWorkflowRunFromID(await run.id());
}

/** One line about a run: what happened, and the state its breaker was left in. */
async function summary(run: CircuitBreakerWorkflowRun): Promise<string> {
  const [workflow, breaker, state] = [await run.workflow(), await run.breaker(), await run.breakerState()];
  if (await run.rejected()) return `${workflow}: refused by breaker ${breaker} (${state}): ${firstLine(await run.error())}`;
  if (await run.success()) return `${workflow}: succeeded in ${await run.attempts()} attempt(s) (breaker ${breaker}: ${state})`;
  return `${workflow}: failed at step ${await run.failedStep()} (breaker ${breaker}: ${state}): ${firstLine(await run.error())}`;
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}

/** The fields of `status --format json` these examples read. */
interface StatusJson {
  breakers: {
    name: string;
    state: string;
    failures: { kind: string; count?: number; threshold?: number };
    nextProbeAt: string | null;
    counters: { admitted: number; successes: number; failures: number; rejections: number };
  }[];
}

/** Examples of the circuit-breaker module. */
@object()
export class Examples {
  /**
   * Protect a deploy: the container's last exec talks to the deploy target, and `protect`
   * evaluates it under a breaker. A failing exec counts as a failure; once the breaker is open,
   * the deploy is refused without running and the error says when the next probe is allowed.
   */
  @func({ cache: "never" })
  async circuitBreakerProtect(
    /** Breaker that guards the deploy target. */
    breaker = "staging-deploy",
    /** Release to deploy. */
    release = "1.4.2",
    /** Simulate an unreachable deploy target (the exec exits 1), to watch the breaker count failures. */
    targetDown = false,
  ): Promise<string> {
    const deploy = dag
      .container()
      .from("alpine:3.20")
      .withEnvVariable("RELEASE", release)
      // A deploy must really run every time: a fresh value keeps the exec out of the cache.
      .withEnvVariable("DEPLOY_REQUEST", randomUUID())
      .withExec([
        "sh",
        "-c",
        targetDown ? 'echo "deploy target unreachable" >&2; exit 1' : 'echo "deployed $RELEASE to staging"',
      ]);
    const deployed = dag.circuitBreaker().protect(deploy, breaker);
    return deployed.stdout();
  }

  /**
   * Share one breaker between two workflows: `deploy-staging` and `smoke-staging` are both
   * guarded by `staging-api`, so when deploys keep failing, smoke tests against the same
   * environment are held back too (and the other way round). Runs both and says how each fared.
   */
  @func({ cache: "never" })
  async circuitBreaker_sharedBreaker(
    /** Workflow config holding both workflows; the module's shipped config by default. */
    @argument({ defaultPath: "/config/dagger.yaml" }) config: File,
  ): Promise<string> {
    const breaker = dag.circuitBreaker();
    const deploy = await once(breaker.run("deploy-staging", { config }));
    const smoke = await once(breaker.run("smoke-staging", { config }));
    return `${await summary(deploy)}\n${await summary(smoke)}`;
  }

  /**
   * Fall back to another workflow when a breaker is open: `run` reports a refusal in its
   * `rejected` field instead of failing, so the caller can do something else (here, run the
   * fallback workflow) while the primary's breaker is open. When the fallback is always the same
   * workflow, the config can say so instead (`fallback:` on the workflow, as deploy-preview does):
   * `execute` then returns the fallback's output, and `run` names it in `fallbackWorkflow`.
   */
  @func({ cache: "never" })
  async circuitBreakerRun_fallback(
    /** The workflow to try first. */
    workflow = "deploy-staging",
    /** The workflow to run instead while the first one's breaker is open. */
    fallback = "hello",
    /** Workflow config holding both workflows; the module's shipped config by default. */
    @argument({ defaultPath: "/config/dagger.yaml" }) config: File,
  ): Promise<string> {
    const breaker = dag.circuitBreaker();
    const primary = await once(breaker.run(workflow, { config }));
    if (await primary.rejected()) {
      const output = await breaker.execute(fallback, { config });
      return `${workflow} refused (breaker ${await primary.breaker()} is ${await primary.breakerState()}); ran ${fallback} instead:\n${output}`;
    }
    if (!(await primary.success())) throw new Error(`${workflow} failed: ${await primary.error()}`);
    return await primary.output();
  }

  /**
   * Read a breaker's status as a program would: `status --format json` parsed, and one line
   * made from it (state, failures, counters, next probe).
   */
  @func({ cache: "never" })
  async circuitBreakerStatus(
    /** Breaker to report on. */
    breaker = "staging-api",
  ): Promise<string> {
    const report = JSON.parse(await dag.circuitBreaker().status({ breaker, format: "json" })) as StatusJson;
    const b = report.breakers.find((x) => x.name === breaker);
    if (!b) throw new Error(`status has no breaker ${breaker}`);
    const f = b.failures;
    const failures = f.kind === "consecutive" ? `${f.count}/${f.threshold} consecutive failures` : f.kind;
    const c = b.counters;
    const next = b.nextProbeAt ? `, next probe at ${b.nextProbeAt}` : "";
    return `${b.name}: ${b.state}, ${failures}; ${c.admitted} admitted, ${c.successes} succeeded, ${c.failures} failed, ${c.rejections} refused${next}`;
  }

  /**
   * The two-step API, for calls that are not one container: `acquire` a permit (refused with
   * the same message as `execute` while the breaker is open), make the call, then `record` how
   * it went with the permit's `token`. Returns the breaker's status after recording.
   */
  @func({ cache: "never" })
  async circuitBreakerAcquire(
    /** Breaker that guards the call. */
    breaker = "staging-api",
    /** Whether the simulated health check of staging answers (false: it fails with exit code 1). */
    healthy = true,
    /** Config whose settings the breaker uses; the module's shipped config by default, where staging-api opens after 3 failures. */
    @argument({ defaultPath: "/config/dagger.yaml" }) config: File,
  ): Promise<string> {
    const circuitBreaker = dag.circuitBreaker();
    // One query: the permit is issued once, and its token is all `record` needs.
    const token = await circuitBreaker.acquire(breaker, { config, expectedDuration: 30 }).token();
    const started = Date.now();
    const check = dag
      .container()
      .from("alpine:3.20")
      .withEnvVariable("CHECK_REQUEST", randomUUID())
      .withExec(["sh", "-c", healthy ? 'echo "staging: 200 OK"' : 'echo "staging: 503 Service Unavailable" >&2; exit 1'], {
        expect: ReturnType.Any,
      });
    const exitCode = await check.exitCode();
    const status = await circuitBreaker.record(token, exitCode === 0, {
      error: exitCode === 0 ? undefined : firstLine(await check.stderr()),
      exitCode,
      durationMs: Date.now() - started,
    });
    return `health check exited ${exitCode}; recorded:\n${status}`;
  }
}
