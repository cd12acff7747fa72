import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { volumeDir } from "../../double/index.js";
import { CONFIG, Engine, isStateExec, MODULE_NAMESPACE, sleep, stateFile, until } from "./harness.js";

/** Runs from the shared volume's log: each run's start and end, in nanoseconds. */
function runsFromLog(text: string): { id: string; start: bigint; end: bigint }[] {
  const byId = new Map<string, { start?: bigint; end?: bigint }>();
  for (const line of text.trim().split("\n")) {
    const [kind, at, id] = line.split(" ");
    if (!id || !at || (kind !== "start" && kind !== "end")) throw new Error(`unexpected log line: ${line}`);
    const run = byId.get(id) ?? {};
    run[kind] = BigInt(at);
    byId.set(id, run);
  }
  return [...byId].map(([id, r]) => {
    if (r.start === undefined || r.end === undefined) throw new Error(`run ${id} has no start or no end`);
    return { id, start: r.start, end: r.end };
  });
}

/** The most runs in progress at any instant. */
function mostAtOnce(runs: { start: bigint; end: bigint }[]): number {
  const events = runs.flatMap((r) => [
    { at: r.start, delta: 1 },
    { at: r.end, delta: -1 },
  ]);
  // An end and a start at the same instant do not overlap.
  events.sort((a, b) => (a.at === b.at ? a.delta - b.delta : a.at < b.at ? -1 : 1));
  let now = 0;
  let most = 0;
  for (const e of events) {
    now += e.delta;
    most = Math.max(most, now);
  }
  return most;
}

describe("platform controls through the CLI stand-in", () => {
  const engine = new Engine();

  // The first call builds the module; done alone, so the racing calls below time only themselves.
  beforeAll(async () => {
    const warm = await engine.call("list-workflows", "--config", CONFIG);
    expect(warm.code, warm.stderr).toBe(0);
  }, 600_000);

  it("never overlaps more than max_concurrent_calls runs of eight racing executes, and all eight run", async () => {
    // Each run holds its slot 5 s, so eight started together must queue even when a loaded
    // machine spreads their starts over several seconds.
    const results = await Promise.all(Array.from({ length: 8 }, () => engine.execute("limited", "--params", "SLEEP=5")));
    for (const r of results) expect(r.code, `${r.ms} ms: ${r.stderr.slice(-2_000)}`).toBe(0);
    const log = join(volumeDir(engine.stateDir, "e2e-concurrency-times", MODULE_NAMESPACE), "log");
    const runs = runsFromLog(readFileSync(log, "utf8"));
    expect(runs).toHaveLength(8);
    expect(mostAtOnce(runs)).toBe(2);
    const status = await engine.status("limited");
    expect(status.breakers[0]?.counters).toMatchObject({ admitted: 8, successes: 8, failures: 0 });
    expect(status.breakers[0]?.counters.queuedCalls).toBeGreaterThanOrEqual(2);
    expect(status.breakers[0]).toMatchObject({ concurrency: { inUse: 0, max: 2 } });
  });

  it("gives a SIGKILLed holder's slot back at its lease deadline, and refuses until then", async () => {
    const victim = engine.start("execute", "--workflow", "one-slot", "--config", CONFIG, "--params", "SLEEP=120");
    const lease = await until("the slot to be taken", () => {
      if (!existsSync(stateFile(engine, "one-slot"))) return undefined;
      const s = JSON.parse(readFileSync(stateFile(engine, "one-slot"), "utf8")) as { leases: { expiresAt: number }[] };
      return s.leases[0];
    });
    process.kill(-(victim.pid as number), "SIGKILL");

    // Held until its deadline: the workflow's 45 s limit plus half_open_timeout 3 s.
    const refused = await engine.execute("one-slot");
    expect(refused.code, `refused ${refused.ms} ms after the kill; lease ends ${lease.expiresAt - Date.now()} ms from now; ${refused.stderr}`).not.toBe(0);
    expect(refused.stderr).toContain('circuit breaker "one-slot" has all 1 concurrency slot(s) taken');
    expect(refused.stderr).toContain(`freed by ${new Date(lease.expiresAt).toISOString()}`);
    expect(refused.stderr).toContain("does not count against the breaker");

    await sleep(Math.max(0, lease.expiresAt - Date.now() + 500));
    const admitted = await engine.execute("one-slot");
    expect(admitted.code, admitted.stderr).toBe(0);
    expect(admitted.stdout.trim()).toBe("held");
    const status = await engine.status("one-slot");
    expect(status.breakers[0]).toMatchObject({ state: "closed" });
    expect(status.breakers[0]?.counters).toMatchObject({ expiredLeases: 1, limitRefusals: 1, failures: 0, rejections: 0 });
  });

  it("runs the alert workflow exactly once for the open eight racing failing callers cause", async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => engine.execute("alerting")));
    for (const r of results) expect(r.code).not.toBe(0);
    // One exec per alert run; its stdout and stderr are answered from that run (logged as cached).
    const alerts = engine.execs().filter((e) => !e.cached && !isStateExec(e.args) && e.args.join(" ").includes("alert-sent"));
    expect(alerts).toHaveLength(1);
    const status = await engine.status("alerting");
    expect(status.breakers[0]).toMatchObject({ state: "open" });
    expect(status.breakers[0]?.counters.stateChanges).toBe(1);

    // Operated by hand with --config, trip and reset send the forced open and the close.
    const tripped = await engine.call("trip", "--breaker", "alerting", "--config", CONFIG);
    expect(tripped.code, tripped.stderr).toBe(0);
    const reset = await engine.call("reset", "--breaker", "alerting", "--config", CONFIG);
    expect(reset.code, reset.stderr).toBe(0);
    const sent = engine.execs().filter((e) => !e.cached && !isStateExec(e.args) && e.args.join(" ").includes("alert-sent"));
    expect(sent).toHaveLength(3);
    const manual = await engine.call("history", "--breaker", "alerting");
    expect(manual.stdout).toMatch(/open\s+forced-open\s+tripped by hand/);
  });

  it("observe mode: a workflow failing past its threshold keeps running, and status counts what would have been rejected", async () => {
    for (let i = 0; i < 4; i++) {
      const r = await engine.execute("observed");
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("exited with code 1");
    }
    const ran = engine.execs().filter((e) => !e.cached && !isStateExec(e.args) && e.args.join(" ").includes("observed-step-ran"));
    expect(ran).toHaveLength(4);
    const status = await engine.status("observed");
    expect(status.breakers[0]).toMatchObject({ state: "open", mode: "observe" });
    expect(status.breakers[0]?.counters).toMatchObject({ wouldHaveRejected: 2, rejections: 0, failures: 4 });
    const table = await engine.call("status", "--breaker", "observed");
    expect(table.stdout).toContain("observed: observe mode, nothing refused; 2 call(s) would have been rejected");
  });

  it("a templated breaker name yields one breaker per value; a missing variable is a located config error that touches no state", async () => {
    for (const host of ["eu.registry.example", "us.registry.example"]) {
      const r = await engine.execute("per-registry", "--params", `REGISTRY_HOST=${host}`);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(`pushed to ${host}`);
    }
    const listed = await engine.call("status", "--prefix", "registry-", "--format", "json");
    expect(listed.code, listed.stderr).toBe(0);
    const names = (JSON.parse(listed.stdout) as { breakers: { name: string }[] }).breakers.map((b) => b.name);
    expect(names).toEqual(["registry-eu.registry.example", "registry-us.registry.example"]);

    const before = engine.execs().length;
    const missing = await engine.execute("per-registry");
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/e2e\.yaml:\d+:\d+: workflows\.per-registry\.breaker: .*REGISTRY_HOST/);
    expect(missing.stderr).toContain("pass --params REGISTRY_HOST=");
    expect(engine.execs().slice(before).filter((e) => isStateExec(e.args))).toHaveLength(0);

    // prune removes only breakers unused for longer than asked: the eu registry, last used a while ago, goes.
    // A `dagger call` takes seconds to start here (tens of seconds on a loaded machine), so the
    // margins are wide: the eu breaker is 45 s old against 30 s, the us one a single call old.
    await sleep(45_000);
    const fresh = await engine.execute("per-registry", "--params", "REGISTRY_HOST=us.registry.example");
    expect(fresh.code, fresh.stderr).toBe(0);
    const pruned = await engine.call("prune", "--unused-for", "30s");
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stdout).toMatch(/registry-eu\.registry\.example\s+\S+ \([^)]+ ago\)\s+removed/);
    expect(pruned.stdout).not.toMatch(/registry-us\.registry\.example\s+\S+ \([^)]+ ago\)\s+removed/);
    const left = await engine.call("status", "--prefix", "registry-", "--format", "json");
    expect((JSON.parse(left.stdout) as { breakers: { name: string }[] }).breakers.map((b) => b.name)).toEqual(["registry-us.registry.example"]);
  });
});
