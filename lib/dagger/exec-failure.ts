/**
 * The SDK's ExecError, recognised by its shape: the `sdk/` the engine generates for a module
 * exports only the client bindings and a few decorators, not the SDK's error classes, so a
 * value import of `ExecError` would stop the module from loading.
 */
export interface ExecFailure extends Error {
  name: "ExecError";
  exitCode: number;
  stdout?: string;
  stderr?: string;
}

export function isExecFailure(e: unknown): e is ExecFailure {
  return e instanceof Error && e.name === "ExecError" && typeof (e as { exitCode?: unknown }).exitCode === "number";
}
