import type { CallEntries } from "./module-api.js";

/**
 * The code behind a function, loaded when the function is called. The specifier is built at
 * run time on purpose: the runtime's scanner would follow a literal one into lib/ and, through
 * it, into the type declarations of zod, yaml and ioredis, on every call of every function.
 */
export async function loadCalls<K extends keyof CallEntries>(entry: K): Promise<CallEntries[K]> {
  const module = (await import(`../lib/dagger/${entry}.js`)) as { default: CallEntries[K] };
  return module.default;
}
