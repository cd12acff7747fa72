import type { Secret } from "@dagger.io/dagger";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config/parse-config.js";
import { resolveWorkflow, type ResolvedStep } from "../../lib/config/resolve-workflow.js";
import { redacting, redactor } from "../../lib/dagger/redact.js";
import { executeWorkflow } from "../../lib/service/execute-workflow.js";
import { MemoryStateStore } from "../../lib/store/memory-store.js";
import type { StepExecutor, StepRun } from "../../lib/workflow/run-workflow.js";

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const VALUE = "tok-9f8e7d6c5b4a";

/** Only what `redactor` asks of a secret. */
const fakeSecret = (value: string) => ({ plaintext: async () => value }) as unknown as Secret;

const workflow = resolveWorkflow(
  parseConfig(
    `
workflows:
  deploy:
    breaker: staging
    steps: [{ name: push, image: alpine, command: [push], secrets: [DEPLOY_TOKEN] }]
`,
    "redact.yaml",
  ),
  "deploy",
);

/** A careless step: prints the secret on both streams, and fails. */
class Leaky implements StepExecutor {
  async run(step: ResolvedStep): Promise<StepRun> {
    return {
      exitCode: 1,
      stdout: `using token ${VALUE}\nauth=${VALUE};retrying\n`,
      stderr: `${step.name}: 401 for token ${VALUE}\n`,
      durationMs: 5,
      timedOut: false,
    };
  }
}

async function run() {
  const store = new MemoryStateStore(() => T0);
  const redact = await redactor([fakeSecret("ab"), fakeSecret(VALUE)]);
  const outcome = await executeWorkflow(store, workflow, redacting(new Leaky(), redact), { clock: () => T0, sleep: async () => {} });
  const read = await store.apply({ op: "read", breakers: null });
  return { outcome, read, texts: [...store.texts.values()] };
}

describe("a secret printed by a step", () => {
  it("is replaced by *** in the run's output and error", async () => {
    const { outcome } = await run();
    const result = outcome.result;
    expect(result?.ok).toBe(false);
    expect(result?.output).not.toContain(VALUE);
    expect(result?.error).not.toContain(VALUE);
    expect(result?.output).toContain("using token ***");
    expect(result?.output).toContain("auth=***;retrying");
    expect(result?.error).toContain("push: 401 for token ***");
    for (const step of result?.steps ?? []) {
      expect(step.stdout).not.toContain(VALUE);
      expect(step.stderr).not.toContain(VALUE);
    }
  });

  it("never reaches the breaker's state: lastError, or anything else stored", async () => {
    const { read, texts } = await run();
    const state = read.states.find((s) => s.name === "staging");
    expect(state?.lastError).not.toBeNull();
    expect(state?.lastError?.message).toContain('workflow "deploy" failed: step "push" exited with code 1');
    expect(state?.lastError?.message).not.toContain(VALUE);
    expect(JSON.stringify(read)).not.toContain(VALUE);
    for (const text of texts) expect(text).not.toContain(VALUE);
  });

  it("leaves text without secrets, and values too short to redact safely, as they are", async () => {
    const redact = await redactor([fakeSecret("ab"), fakeSecret(VALUE)]);
    expect(redact("nothing secret about abba")).toBe("nothing secret about abba");
    expect(redact(`${VALUE}${VALUE}`)).toBe("******");
    expect(await redactor([])).toBeTypeOf("function");
  });

  it("is redacted from an error the executor throws, before it becomes the breaker's last error", async () => {
    const store = new MemoryStateStore(() => T0);
    const redact = await redactor([fakeSecret(VALUE)]);
    const throwing: StepExecutor = {
      run: async () => {
        throw new Error(`engine: exec failed for env DEPLOY_TOKEN=${VALUE}`);
      },
    };
    const failed = await executeWorkflow(store, workflow, redacting(throwing, redact), { clock: () => T0, sleep: async () => {} }).catch((e: Error) => e);
    expect(failed).toBeInstanceOf(Error);
    expect((failed as Error).message).toBe("engine: exec failed for env DEPLOY_TOKEN=***");
    const state = (await store.apply({ op: "read", breakers: null })).states[0];
    expect(state?.lastError?.message).toBe("engine: exec failed for env DEPLOY_TOKEN=***");
    for (const text of store.texts.values()) expect(text).not.toContain(VALUE);
  });
});
