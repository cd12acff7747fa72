// Slow: many `dagger-call` processes over one state dir, as separate `dagger call`s on one engine.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runDaggerCall, volumeDir } from "../../double/index.js";
import { callLog, execLog, registrationCache, repoRoot, tempStateDir, toyModule } from "./helpers/env.js";

function caller(stateDir: string, extraEnv: Record<string, string> = {}) {
  const env = { DAGGER_DOUBLE_STATE_DIR: stateDir, DAGGER_DOUBLE_MODULE_CACHE: registrationCache, ...extraEnv };
  return (...argv: string[]) => runDaggerCall(["-m", toyModule, ...argv], { env });
}

describe("dagger-call across processes", () => {
  it("8 concurrent calls incrementing a LOCKED volume passed by key lose no update", async () => {
    const stateDir = tempStateDir("cli-locked");
    const call = caller(stateDir);
    const results = await Promise.all(Array.from({ length: 8 }, () => call("increment-volume", "--cache", "cli-counter", "--pause", "0.2")));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(results.map((r) => Number(r.stdout.trim())).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(readFileSync(join(volumeDir(stateDir, "cli-counter"), "count"), "utf8")).toBe("8\n");
    const lines = execLog(stateDir);
    expect(lines).toHaveLength(8);
    expect(new Set(lines.map((l) => l.callId)).size).toBe(8);
    expect(lines[0]?.mounts).toEqual([{ path: "/counter", type: "cache", volume: "cli-counter", namespace: "mainClient", sharing: "LOCKED" }]);
  }, 180_000);

  it("shares the exec and function caches between calls, like one engine", async () => {
    const stateDir = tempStateDir("cli-cache");
    const call = caller(stateDir);
    const a = await call("increment-no-buster", "--volume", "stale");
    const b = await call("increment-no-buster", "--volume", "stale");
    expect([a.stdout, b.stdout]).toEqual(["1\n", "1\n"]); // stale: the exec was not run again
    expect(execLog(stateDir).map((l) => l.cached)).toEqual([false, true]);

    const c = await call("increment-cached-fn", "--volume", "fn");
    const d = await call("increment-cached-fn", "--volume", "fn");
    expect([c.stdout, d.stdout]).toEqual(["1\n", "1\n"]); // stale: the function was not run again
    const fnCalls = callLog(stateDir).filter((x) => x.function === "ToyModule.incrementCachedFn");
    expect(fnCalls.map((x) => x.cached)).toEqual([false, true]);
    expect(new Set(fnCalls.map((x) => x.callId)).size).toBe(2);

    const e = await call("increment", "--volume", "stale");
    expect(e.stdout).toBe("2\n"); // with a cache-buster and cache: "never", it sees the volume
  }, 180_000);

  it("reads File/Secret flags from the host, honours defaultPath, and selects fields of results", async () => {
    const stateDir = tempStateDir("cli-args");
    const call = caller(stateDir, { TOY_TOKEN: "abcdefg" });
    const [file, dflt, secret, field, chained, container, obj] = await Promise.all([
      call("read-file", "--file", "tests/fixtures/toy-module/data.txt"),
      call("read-default"),
      call("secret-length", "--token", "env:TOY_TOKEN"),
      call("info", "--legs", "6", "legs"),
      call("info", "greeting"),
      call("greeter", "--name", "cli", "stdout"),
      call("info"),
    ]);
    expect(file.stdout).toBe("hello from the default path\n"); // relative to the cwd (repo root)
    expect(dflt.stdout).toBe("hello from the default path\n");
    expect(secret.stdout).toBe("7\n");
    expect(field.stdout).toBe("6\n");
    expect(chained.stdout).toBe("toy has 4 legs\n");
    expect(container.stdout).toBe("hi cli\n");
    expect(JSON.parse(obj.stdout)).toEqual({ name: "toy", legs: 4 });
    expect(JSON.stringify(execLog(stateDir))).not.toContain("abcdefg");
    expect(repoRoot).toBeTruthy();
  }, 180_000);
});
