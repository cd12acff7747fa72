// An argument with a `defaultPath` that the caller did not give, loaded from the module's
// context as the engine loads it.
import { existsSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import type { ModuleInfo } from "./module-info.js";
import type { StateDir } from "./store.js";
import { encodeId, type FunctionArgV } from "./values.js";

/**
 * The value of an argument with a `defaultPath` that was not given, loaded from the module's
 * context as the engine does: a relative path from the directory that holds dagger.json, an
 * absolute one from the context directory (the enclosing Git repository). Never outside it.
 */
export function contextualValue(store: StateDir, info: ModuleInfo, arg: FunctionArgV): string {
  const p = arg.defaultPath;
  const target = p.startsWith("/") ? resolve(info.contextDir, `.${p}`) : resolve(info.dir, p);
  const rel = relative(info.contextDir, target);
  if (rel.startsWith("..") || isAbsolute(rel)) {
    throw new Error(`engine double: defaultPath ${JSON.stringify(p)} of ${arg.name} is outside the context directory ${info.contextDir}`);
  }
  if (!existsSync(target)) throw new Error(`engine double: defaultPath ${JSON.stringify(p)} of ${arg.name}: ${target} does not exist`);
  if (arg.typeDef.name === "File") {
    if (!statSync(target).isFile()) throw new Error(`engine double: defaultPath ${JSON.stringify(p)} of ${arg.name} is not a file`);
    const f = store.importHostFile(target);
    return encodeId({ t: "File", name: f.name, blob: f.blob, mode: f.mode });
  }
  return encodeId({ t: "Directory", manifest: store.importHostDir(target, arg.ignore) });
}

