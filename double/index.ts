// The engine double: a stand-in for the Dagger engine for end-to-end tests (see README.md).
export { startEngineDouble, defaultStateDir } from "./engine/double.js";
export type { EngineDouble, EngineDoubleOptions, CallOptions, CallResult } from "./engine/double.js";
export { daggerCallCommand, runDaggerCall } from "./cli/run.js";
export type { DaggerCallResult, RunDaggerCallOptions } from "./cli/run.js";
export { readExecLog } from "./engine/engine.js";
export { decodeId, encodeId, isDoubleId } from "./engine/values.js";
export type { ModuleV, FunctionV, TypeDefV } from "./engine/values.js";

export { CLIENT_NAMESPACE, moduleNamespace } from "./engine/module-info.js";

import { CLIENT_NAMESPACE } from "./engine/module-info.js";
import { StateDir } from "./engine/store.js";
/** The host directory holding a cache volume: the client's (CLI, tests) by default, else a module's namespace (`moduleNamespace`). */
export function volumeDir(stateDir: string, key: string, namespace = CLIENT_NAMESPACE): string {
  return new StateDir(stateDir).volumeDir({ namespace, key });
}
