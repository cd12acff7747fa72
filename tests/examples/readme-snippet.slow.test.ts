// The README's "From your own module" snippet, run as the module it shows: it installs this
// module as a dependency and deploys through `run`. However many fields it reads, one call of
// its function is one workflow run and one breaker decision, counted from the logs.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runDaggerCall } from "../../double/index.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** The first ```ts block after the README heading "### From your own module". */
function readmeSnippet(): string {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### From your own module"));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m?.[1]) throw new Error("README.md: no ```ts block under \"### From your own module\"");
  return m[1];
}

function logLines(stateDir: string, file: string): Record<string, unknown>[] {
  return readFileSync(join(stateDir, file), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("the README's composition snippet", () => {
  it("runs the workflow once per call, whatever it reads", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "cb-readme-")), "release");
    mkdirSync(join(dir, "src"), { recursive: true });
    const dagger = { name: "release", engineVersion: "v0.21.8", sdk: { source: "typescript" }, dependencies: [{ name: "circuit-breaker", source: relative(dir, root) }] };
    writeFileSync(join(dir, "dagger.json"), JSON.stringify(dagger, null, 2));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "release", private: true, type: "module" }, null, 2));
    writeFileSync(join(dir, "tsconfig.json"), readFileSync(join(root, "examples", "typescript", "tsconfig.json")));
    writeFileSync(join(dir, "ci.yaml"), readFileSync(join(root, "config", "dagger.yaml")));
    writeFileSync(join(dir, "src", "index.ts"), readmeSnippet());
    const stateDir = mkdtempSync(join(tmpdir(), "cb-readme-state-"));

    const r = await runDaggerCall(["-m", dir, "deploy"], { env: { DAGGER_DOUBLE_STATE_DIR: stateDir }, timeoutMs: 600_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/rollout complete/);

    const runs = logLines(stateDir, "call-log.jsonl").filter((c) => c["function"] === "CircuitBreaker.run");
    expect(runs).toHaveLength(1);
    // One breaker decision: an acquire and a record, each one state exec.
    const stateExecs = logLines(stateDir, "exec-log.jsonl").filter((e) => (e["mounts"] as { path: string }[]).some((m) => m.path === "/state"));
    expect(stateExecs).toHaveLength(2);
    // The workflow's first step ran once; reading its output again is served from the exec cache.
    const renders = logLines(stateDir, "exec-log.jsonl").filter((e) => JSON.stringify(e["args"]).includes("tee /tmp/manifest.yaml"));
    expect(renders.filter((e) => e["cached"] === false)).toHaveLength(1);
  }, 900_000);
});
