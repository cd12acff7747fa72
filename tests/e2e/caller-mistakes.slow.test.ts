import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Engine, isStateExec, type StatusJson } from "./harness.js";

// A caller mistake is reported before the breaker is asked: through `dagger call` on the
// engine double, the failed calls make no state exec at all, and no breaker exists afterwards.
// Three mistaken calls, run together, and one `status`: each call costs seconds.

describe("execute with a caller mistake, through dagger call", () => {
  const engine = new Engine();

  it("fails naming the mistake, runs no state exec, and creates no breaker", async () => {
    const broken = join(engine.stateDir, "broken.yaml");
    writeFileSync(broken, "circuit_breaker: { failure_threshold: zero }\nworkflows:\n  flaky:\n    steps: [{ name: a, image: alpine:3.20, command: [true] }]\n");

    const [unknown, param, config] = await Promise.all([
      engine.execute("flakey"),
      engine.execute("flaky", "--params", "SERVICE_UP"),
      engine.call("execute", "--workflow", "flaky", "--config", broken),
    ]);

    expect(unknown.code, unknown.stderr).not.toBe(0);
    expect(unknown.stderr).toContain('unknown workflow "flakey"; did you mean "flaky"?');
    expect(param.code, param.stderr).not.toBe(0);
    expect(param.stderr).toContain('--params entry "SERVICE_UP" is not KEY=VALUE');
    expect(config.code, config.stderr).not.toBe(0);
    expect(config.stderr).toMatch(/broken\.yaml:1:\d+: circuit_breaker\.failure_threshold: must be a whole number >= 1, got "zero"/);

    const execs = engine.execs();
    expect(execs.filter((e) => isStateExec(e.args)), "no state exec for a caller mistake").toHaveLength(0);
    expect(execs, "nothing ran at all").toHaveLength(0);

    const status = await engine.call("status", "--format", "json");
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as StatusJson).breakers).toEqual([]);
    // The status read is the first and only state exec.
    expect(engine.execs().filter((e) => isStateExec(e.args))).toHaveLength(1);
  });
});
