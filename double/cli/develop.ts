// `dagger develop` stand-in for modules with dependencies: writes the dependencies' TypeScript
// bindings into the module's sdk/, so that tsc and editors see `dag.<dependency>()`.
//   tsx double/cli/develop.ts [-m <module dir>]
// Registers each dependency through the double (state dir: $DAGGER_DOUBLE_STATE_DIR, default
// ./.dagger-double). Module runs through the double do not need it.
import { startEngineDouble } from "../engine/double.js";

const argv = process.argv.slice(2);
let moduleDir = ".";
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (a === "-m" || a === "--mod" || a === "--module") moduleDir = argv[++i] ?? "";
  else if (a.startsWith("--mod=") || a.startsWith("--module=")) moduleDir = a.slice(a.indexOf("=") + 1);
  else {
    console.error(`usage: develop [-m <module dir>] (unexpected ${JSON.stringify(a)})`);
    process.exit(2);
  }
}
const double = await startEngineDouble({ moduleDir });
try {
  for (const p of await double.develop()) console.log(p);
} catch (e) {
  console.error(`Error: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
} finally {
  await double.close();
}
