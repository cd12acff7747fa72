import type { Secret } from "@dagger.io/dagger";
import type { StepExecutor } from "../workflow/run-workflow.js";

/**
 * Replaces secret values in text the module keeps or shows (outputs, errors, breaker state),
 * in case a step prints one.
 */
export async function redactor(secrets: Secret[]): Promise<(text: string) => string> {
  const values = (await Promise.all(secrets.map((s) => s.plaintext()))).filter((v) => v.length >= 4);
  if (values.length === 0) return (text) => text;
  return (text) => values.reduce((out, value) => out.split(value).join("***"), text);
}

/**
 * Wraps an executor so every step's output is redacted as it comes back, and so is the message
 * of an error it throws (an engine error can quote a command or its env), since that message
 * becomes the breaker's last error.
 */
export function redacting(executor: StepExecutor, redact: (text: string) => string): StepExecutor {
  return {
    async run(step, attempt) {
      let run;
      try {
        run = await executor.run(step, attempt);
      } catch (e) {
        const clean = new Error(redact(e instanceof Error ? e.message : String(e)));
        if (e instanceof Error) clean.name = e.name;
        throw clean;
      }
      return { ...run, stdout: redact(run.stdout), stderr: redact(run.stderr) };
    },
  };
}
