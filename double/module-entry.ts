// Runs in the module's own process, started by the double the way the engine's TypeScript
// runtime starts `src/__dagger.entrypoint.ts`: `tsx --no-deprecation --tsconfig
// <module>/tsconfig.json <entry>`, cwd = the module's directory, DAGGER_SESSION_PORT and
// DAGGER_SESSION_TOKEN set. Like the runtime's entrypoint it lists the module's src/**
// .ts/.mts files, adds the SDK's client.gen.ts, and hands them to the SDK's real
// `entrypoint(files)`, which registers the module or invokes one function.
//
// `@dagger.io/dagger` resolves through the module's tsconfig `paths` (./sdk/index.ts), the
// same SDK instance the module's own code gets.
import { readdirSync, statSync } from "node:fs";
import { delimiter, extname, join } from "node:path";
import { entrypoint } from "@dagger.io/dagger";

const srcDir = process.env["DAGGER_DOUBLE_MODULE_SRC"];
const clientGen = process.env["DAGGER_DOUBLE_CLIENT_GEN"];
if (!srcDir || !clientGen) {
  console.error("engine double: DAGGER_DOUBLE_MODULE_SRC and DAGGER_DOUBLE_CLIENT_GEN must be set");
  process.exit(2);
}

function listTsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listTsFiles(full));
    else if (extname(full) === ".ts" || extname(full) === ".mts") out.push(full);
  }
  return out;
}

// One client.gen.ts, or several (the core API's declarations, then the dependencies' bindings).
await entrypoint([...listTsFiles(srcDir), ...clientGen.split(delimiter).filter(Boolean)]);
