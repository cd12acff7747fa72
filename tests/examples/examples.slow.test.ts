// The Daggerverse examples in examples/typescript/: a module that installs this one as a
// dependency. Its functions are scanned as the engine registers them (names follow Dagger's
// convention for TypeScript examples, every function and argument documented), its generated
// bindings type-check, and every example runs through the engine double as a separate
// `dagger call` process over one shared state dir, so the examples cannot rot.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { scan } from "../../node_modules/@dagger.io/dagger/dist/src/module/introspector/index.js";
import { runDaggerCall, startEngineDouble, volumeDir, type DaggerCallResult } from "../../double/index.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const examplesDir = join(root, "examples", "typescript");
/** Registrations are keyed by source digest: one directory per machine is safe (as in tests/double). */
const registrationCache = join(tmpdir(), "dagger-double-test-registrations");
const stateDir = mkdtempSync(join(tmpdir(), "circuit-breaker-examples-"));

/**
 * The shipped config with staging-api open for 15 minutes instead of 60 s, so that the checks
 * made while it is open do not race its first probe on a slow machine. Same workflows, same
 * threshold: only the wait differs.
 */
const config = join(stateDir, "staging-slow-probe.yaml");
{
  const shipped = readFileSync(join(root, "config/dagger.yaml"), "utf8");
  const slow = shipped.replace(/(&staging-breaker\n\s+failure_threshold: 3\n\s+reset_timeout: )60\b/, "$1900");
  if (slow === shipped) throw new Error("config/dagger.yaml changed: staging-api is no longer `failure_threshold: 3, reset_timeout: 60`");
  writeFileSync(config, slow);
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

interface ScannedFn {
  name: string;
  description: string;
  cache: string | undefined;
  returnType: { kind: string };
  arguments: Record<string, { name: string; description: string; defaultPath?: string }>;
}
type Scanned = { description: string; objects: Record<string, { name: string; description: string; methods: Record<string, ScannedFn> }> };

/** `dagger call -m examples/typescript ...` as its own process, on the shared state dir. */
async function example(...argv: string[]): Promise<DaggerCallResult> {
  return runDaggerCall(["-m", examplesDir, ...argv], {
    env: { DAGGER_DOUBLE_STATE_DIR: stateDir, DAGGER_DOUBLE_MODULE_CACHE: registrationCache },
    timeoutMs: 300_000,
  });
}

function ok(r: DaggerCallResult): string {
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

interface LogLine {
  caller?: string;
  function?: string;
  args?: string[];
  cached: boolean;
  policy?: string;
  mounts?: { path: string; type: string; volume?: string; namespace?: string; sharing?: string }[];
}
function log(file: string): LogLine[] {
  const p = join(stateDir, file);
  return existsSync(p) ? readFileSync(p, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as LogLine) : [];
}

const EXAMPLES = [
  "circuitBreakerProtect",
  "circuitBreaker_sharedBreaker",
  "circuitBreakerRun_fallback",
  "circuitBreakerStatus",
  "circuitBreakerAcquire",
];

describe("examples/typescript as the engine registers it", () => {
  // Parse only, as the engine's introspection does, over the same files (core declarations from sdk/).
  const scanExamples = async () =>
    (await scan([...sources(join(examplesDir, "src")), join(root, "sdk/src/api/client.gen.ts")], "examples", false)) as unknown as Scanned;
  const scanParent = async () =>
    (await scan([...sources(join(root, "src")), join(root, "sdk/src/api/client.gen.ts")], "circuit-breaker", false)) as unknown as Scanned;

  it("is a module named examples whose dependency is this module, at ../..", () => {
    const daggerJson = JSON.parse(readFileSync(join(examplesDir, "dagger.json"), "utf8")) as Record<string, unknown>;
    expect(daggerJson).toMatchObject({
      name: "examples",
      sdk: { source: "typescript" },
      dependencies: [{ name: "circuit-breaker", source: "../.." }],
    });
    expect(daggerJson["engineVersion"]).toBe(JSON.parse(readFileSync(join(root, "dagger.json"), "utf8")).engineVersion);
  });

  it("names every function after Dagger's convention for TypeScript examples, and documents it", async () => {
    const [examples, parent] = await Promise.all([scanExamples(), scanParent()]);
    const main = examples.objects["Examples"];
    expect(main?.description).toMatch(/^Examples of the circuit-breaker module/);
    expect(examples.description).toMatch(/Daggerverse example/);
    const fns = Object.values(main?.methods ?? {});
    expect(fns.map((f) => f.name).sort()).toEqual([...EXAMPLES].sort());
    const parentFns = new Set(Object.values(parent.objects["CircuitBreaker"]?.methods ?? {}).map((m) => m.name));
    for (const fn of fns) {
      // `circuitBreaker<Function>` or `circuitBreaker<Function>_<name>`: an example of that function;
      // `circuitBreaker_<name>`: a module-level example.
      const m = /^circuitBreaker(?:([A-Z][A-Za-z]*))?(?:_([a-z][A-Za-z]*))?$/.exec(fn.name);
      expect(m, fn.name).not.toBeNull();
      const target = m?.[1];
      if (target) expect(parentFns, `${fn.name} shows ${target}`).toContain(target.charAt(0).toLowerCase() + target.slice(1));
      else expect(m?.[2], `${fn.name} is a module-level example`).toBeTruthy();
      expect(fn.cache, `${fn.name} changes breaker state, so it must never be cached`).toBe("never");
      expect(fn.description.trim().length, fn.name).toBeGreaterThan(60);
      for (const arg of Object.values(fn.arguments)) expect(arg.description.trim().length, `${fn.name}(${arg.name})`).toBeGreaterThan(10);
    }
    expect(main?.methods["circuitBreakerAcquire"]?.arguments["config"]?.defaultPath).toBe("/config/dagger.yaml");
  });
});

describe("examples/typescript through the engine double", () => {
  beforeAll(async () => {
    // `dagger develop`: registers the dependency and writes its bindings into examples/typescript/sdk/.
    const double = await startEngineDouble({ stateDir, moduleDir: examplesDir, registrationCacheDir: registrationCache });
    try {
      const written = await double.develop();
      expect(written.map((p) => p.slice(examplesDir.length + 1)).sort()).toEqual(["sdk/client.gen.ts", "sdk/index.ts", "sdk/telemetry.ts"]);
      await double.typedefs(); // the examples' own registration, once for every process below
    } finally {
      await double.close();
    }
  }, 180_000);

  it("type-checks against the generated bindings (dag.circuitBreaker(), CircuitBreakerWorkflowRun...)", () => {
    const bindings = readFileSync(join(examplesDir, "sdk/client.gen.ts"), "utf8");
    expect(bindings).toMatch(/export class Client extends CoreClient \{/);
    expect(bindings).toMatch(/circuitBreaker = \(opts\?: ClientCircuitBreakerOpts\): CircuitBreaker =>/);
    expect(bindings).toMatch(/run = \(workflow: string, opts\?: CircuitBreakerRunOpts\): CircuitBreakerWorkflowRun =>/);
    expect(bindings).toMatch(/protect = \(container: Container, breaker: string, opts\?: CircuitBreakerProtectOpts\): Container =>/);
    expect(bindings).toMatch(/status = async \(opts\?: CircuitBreakerStatusOpts\): Promise<string> =>/);
    expect(bindings).toMatch(/export class CircuitBreakerBreakerPermit extends BaseClient/);
    const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
    const r = spawnSync(process.execPath, [tsc, "-p", join(examplesDir, "tsconfig.json")], { encoding: "utf8" });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  }, 60_000);

  it("runs every example as its own process: protect, a shared breaker, the two-step API, fallback and status", async () => {
    const started = Date.now();
    const lap = (what: string) => console.log(`[examples] ${what}: ${Math.round((Date.now() - started) / 1000)} s`);

    // Protect a deploy (alone first: it also fills the dependency's constructor cache).
    expect(ok(await example("circuit-breaker-protect", "--release", "2.0.0"))).toBe("deployed 2.0.0 to staging\n");
    lap("protect");

    // A failing deploy counts against its breaker; both staging workflows pass under staging-api.
    const [down, shared] = await Promise.all([
      example("circuit-breaker-protect", "--target-down"),
      example("circuit-breaker-shared-breaker", "--config", config),
    ]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/exit code: 1/);
    expect(down.stderr).toMatch(/deploy target unreachable/);
    expect(ok(shared)).toBe(
      "deploy-staging: succeeded in 1 attempt(s) (breaker staging-api: closed)\nsmoke-staging: succeeded in 1 attempt(s) (breaker staging-api: closed)\n",
    );
    lap("protect down + shared");

    // The two-step API: three failed health checks recorded under staging-api (threshold 3) open
    // it; meanwhile the deploy breaker's status shows the two protected calls.
    const firstTwo = await Promise.all([
      example("circuit-breaker-acquire", "--healthy=false", "--config", config),
      example("circuit-breaker-acquire", "--healthy=false", "--config", config),
    ]);
    const [third, deployStatus] = await Promise.all([
      example("circuit-breaker-acquire", "--healthy=false", "--config", config),
      example("circuit-breaker-status", "--breaker", "staging-deploy"),
    ]);
    const recorded = [...firstTwo, third].map(ok);
    for (const out of recorded) expect(out).toMatch(/^health check exited 1; recorded:\nBREAKER +STATE/);
    const lines = recorded.map((out) => out.split("\n").find((l) => l.startsWith("staging-api")) ?? "");
    expect(lines.map((l) => /(\d)\/3 consecutive failures/.exec(l)?.[1])).toEqual(expect.arrayContaining(["1", "2"]));
    expect(lines[2]).toMatch(/^staging-api +open +3\/3 consecutive failures +staging: 503 Service Unavailable/);
    expect(ok(deployStatus)).toBe("staging-deploy: closed, 1/5 consecutive failures; 2 admitted, 1 succeeded, 1 failed, 0 refused\n");
    lap("acquire/record x3 + status");

    // Open: the shared breaker refuses both workflows, the fallback example runs `hello` instead,
    // status shows the counters acquire/record moved, and acquire itself is refused.
    const [refused, fallback] = await Promise.all([
      example("circuit-breaker-shared-breaker", "--config", config),
      example("circuit-breaker-run-fallback", "--config", config),
    ]);
    const [status, acquireOpen] = await Promise.all([
      example("circuit-breaker-status"),
      example("circuit-breaker-acquire", "--config", config),
    ]);
    lap("open: shared + fallback + status + acquire");
    const [deployLine, smokeLine] = ok(refused).trim().split("\n");
    expect(deployLine).toMatch(/^deploy-staging: refused by breaker staging-api \(open\): circuit breaker "staging-api" is open, so workflow "deploy-staging" was not run\./);
    expect(smokeLine).toMatch(/^smoke-staging: refused by breaker staging-api \(open\): circuit breaker "staging-api" is open, so workflow "smoke-staging" was not run\./);
    expect(ok(fallback)).toMatch(/^deploy-staging refused \(breaker staging-api is open\); ran hello instead:\nhello from \S+\nrunning as \S+ in \/\n$/);
    expect(ok(status)).toMatch(/^staging-api: open, 3\/3 consecutive failures; 5 admitted, 2 succeeded, 3 failed, [34] refused, next probe at \d{4}-\d\d-\d\dT/);
    expect(acquireOpen.code).toBe(1);
    expect(acquireOpen.stderr).toMatch(/circuit breaker "staging-api" is open/);

    // Every state operation ran in the dependency, on its own volume, namespaced under its name;
    // the examples module never touched breaker state itself.
    const execs = log("exec-log.jsonl");
    const stateOps = execs.filter((l) => l.mounts?.some((m) => m.path === "/state"));
    expect(stateOps.length).toBeGreaterThan(10);
    for (const l of stateOps) {
      expect(l.caller).toMatch(/^CircuitBreaker\./);
      expect(l.mounts).toEqual([{ path: "/state", type: "cache", volume: "circuit-breaker-state", namespace: "mod(circuit-breaker.)", sharing: "LOCKED" }]);
    }
    expect(existsSync(volumeDir(stateDir, "circuit-breaker-state", "mod(circuit-breaker.)"))).toBe(true);
    const volumes = readdirSync(join(stateDir, "volumes"))
      .filter((f) => f.endsWith(".json"))
      .map((f) => JSON.parse(readFileSync(join(stateDir, "volumes", f), "utf8")) as { namespace: string; key: string });
    expect(volumes).toEqual([{ namespace: "mod(circuit-breaker.)", key: "circuit-breaker-state" }]);
    // The deploy ran under `protect`, in the dependency; the example only read its output.
    const deploys = execs.filter((l) => l.args?.join(" ").includes("deployed $RELEASE"));
    expect(deploys.map((l) => [l.caller, l.cached])).toEqual([
      ["CircuitBreaker.protect", false],
      ["Examples.circuitBreakerProtect", true],
    ]);

    // Function calls: the examples and the dependency's functions are never cached; the
    // dependency's constructor is, across processes.
    const calls = log("call-log.jsonl");
    for (const c of calls.filter((x) => x.function?.startsWith("Examples."))) expect(c.policy).toBe("Never");
    const ctor = calls.filter((x) => x.function === "CircuitBreaker.constructor");
    expect(ctor.filter((c) => !c.cached)).toHaveLength(1);
    expect(ctor.length).toBeGreaterThan(5);
    expect(calls.filter((x) => x.function === "CircuitBreaker.run").map((c) => c.policy)).toEqual(Array(5).fill("Never"));
  }, 600_000);
});
