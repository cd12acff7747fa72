// The engine double: a stand-in for the Dagger engine for end-to-end tests (see README.md).
export { startEngineDouble, defaultStateDir } from "./double.js";
export type { EngineDouble, EngineDoubleOptions, CallOptions, CallResult } from "./double.js";
export { runDaggerCall } from "./run.js";
export type { DaggerCallResult, RunDaggerCallOptions } from "./run.js";
export { readExecLog } from "./engine.js";
export { decodeId, encodeId, isDoubleId } from "./values.js";
export type { ModuleV, FunctionV, TypeDefV } from "./values.js";

export { CLIENT_NAMESPACE, moduleNamespace } from "./module-info.js";

import { CLIENT_NAMESPACE } from "./module-info.js";
import { StateDir } from "./store.js";
/** The host directory holding a cache volume: the client's (CLI, tests) by default, else a module's namespace (`moduleNamespace`). */
export function volumeDir(stateDir: string, key: string, namespace = CLIENT_NAMESPACE): string {
  return new StateDir(stateDir).volumeDir({ namespace, key });
}
