import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CONFIG, Engine, isStateExec, sleep, stateFile, until } from "./harness.js";

describe("hostile conditions", () => {
  const engine = new Engine();

  it("gives back the slot of a probe killed with SIGKILL mid-run, as documented", async () => {
    expect((await engine.call("trip", "--breaker", "killed-probe", "--duration", "1")).code).toBe(0);
    await sleep(1_200);

    // A `dagger call` whose probe is killed, process group and all, while its step runs.
    const victim = engine.start("execute", "--workflow", "slow-probe", "--config", CONFIG, "--params", "SLEEP=120");
    const probe = await until("the probe to be admitted", () => {
      if (!existsSync(stateFile(engine, "killed-probe"))) return undefined;
      const s = JSON.parse(readFileSync(stateFile(engine, "killed-probe"), "utf8")) as { probesInFlight: { expiresAt: number }[] };
      return s.probesInFlight[0];
    });
    process.kill(-(victim.pid as number), "SIGKILL");

    // Its slot is held until its deadline: the step's 45 s timeout plus half_open_timeout 3 s.
    const blocked = await engine.execute("slow-probe");
    expect(blocked.stderr).toContain('circuit breaker "killed-probe" is half-open and its 1 probe slot(s) are taken');
    expect(blocked.stderr).toContain(`Next probe allowed at ${new Date(probe.expiresAt).toISOString()}`);

    // Taken for dead at its deadline, the probe re-opens the breaker from that deadline, not from
    // when the next call noticed; after the 2 s open time the next call is a probe, and it closes.
    await sleep(Math.max(0, probe.expiresAt - Date.now() + 2_500));
    const recovered = await engine.execute("slow-probe");
    expect(recovered.code, recovered.stderr).toBe(0);
    expect(recovered.stdout.trim()).toBe("probed");
    const history = await engine.call("history", "--breaker", "killed-probe");
    expect(history.stdout).toMatch(
      new RegExp(`${new Date(probe.expiresAt).toISOString().replace(/\./g, "\\.")}\\s+half-open\\s+open\\s+probe \\S+ did not report by its deadline`),
    );
    const status = await engine.status("killed-probe");
    expect(status.breakers[0]).toMatchObject({ state: "closed" });
    expect(status.breakers[0]?.counters).toMatchObject({ expiredProbes: 1, probes: 2 });
  });

  it("reports corrupted, truncated and unknown-version state without running or overwriting, and reset recovers", async () => {
    expect((await engine.execute("flaky", "--breaker", "damaged", "--params", "SERVICE_UP=true")).code).toBe(0);
    const file = stateFile(engine, "damaged");
    const good = readFileSync(file, "utf8");
    const cases: [string, string, RegExp][] = [
      ["garbage", "\u0000\u0001 not json", /state of breaker "damaged" is unreadable: not JSON/],
      ["truncated", good.slice(0, Math.floor(good.length / 2)), /state of breaker "damaged" is unreadable: not JSON/],
      ["unknown version", good.replace('"version":1', '"version":99'), /state of breaker "damaged" is of an unknown version: found version 99, this module reads version 1/],
    ];
    for (const [label, text, message] of cases) {
      writeFileSync(file, text);
      const before = engine.execs().length;
      const r = await engine.execute("flaky", "--breaker", "damaged", "--params", "SERVICE_UP=true");
      expect(r.code, label).not.toBe(0);
      expect(r.stderr, label).toMatch(message);
      expect(r.stderr, label).toContain("Nothing was changed. Run `reset --breaker damaged`");
      expect(engine.execs().slice(before).filter((e) => !isStateExec(e.args)), `${label}: nothing ran`).toHaveLength(0);
      expect(readFileSync(file, "utf8"), `${label}: state left as it was`).toBe(text);
    }
    const table = await engine.call("status");
    expect(table.stdout).toContain('! state of breaker "damaged" is of an unknown version');

    expect((await engine.call("reset", "--breaker", "damaged")).code).toBe(0);
    const again = await engine.execute("flaky", "--breaker", "damaged", "--params", "SERVICE_UP=true");
    expect(again.code, again.stderr).toBe(0);
  });

  it("never runs anything the user did not write: parameters and names are data, not shell", async () => {
    // No quotes or commas: list flags drop quote characters and split on commas, as `dagger call` does.
    const message = "$(echo injected) ; echo injected && echo injected | cat > /tmp/x";
    const r = await engine.execute("echo-param", "--params", `MESSAGE=${message}`);
    expect(r.code, r.stderr).toBe(0);
    // Printed back exactly as written: no substitution, separator or pipe was interpreted.
    expect(r.stdout).toBe(`${message}\n`);
    const bad = await engine.execute("flaky", "--breaker", "x;touch /tmp/y");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('breaker name "x;touch /tmp/y" has characters that are not allowed');
    // The step's command reached the process as the config's argv, untouched.
    const runs = engine.execs().filter((e) => !e.cached && !isStateExec(e.args) && e.args.join(" ").includes("printf"));
    expect(runs.map((e) => e.args)).toEqual([["sh", "-c", `printf '%s\\n' "$MESSAGE"`]]);
  });
});
