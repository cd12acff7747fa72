// The engine double: a stand-in for the Dagger engine for end-to-end tests (see README.md).
export { startEngineDouble, defaultStateDir } from "./double.js";
export type { EngineDouble, EngineDoubleOptions, CallOptions, CallResult } from "./double.js";
export { runDaggerCall } from "./run.js";
export type { DaggerCallResult, RunDaggerCallOptions } from "./run.js";
export { readExecLog } from "./engine.js";
export { decodeId, encodeId, isDoubleId } from "./values.js";
export type { ModuleV, FunctionV, TypeDefV } from "./values.js";

import { StateDir } from "./store.js";
/** The host directory holding a cache volume (namespace "" = created by the client/CLI, else the module name). */
export function volumeDir(stateDir: string, key: string, namespace = ""): string {
  return new StateDir(stateDir).volumeDir({ namespace, key });
}
