/**
 * Writes config/dagger.schema.json from the zod config schema.
 *
 *   tsx scripts/gen-config-schema.ts            write the file
 *   tsx scripts/gen-config-schema.ts --check    exit 1 if the committed file is out of date
 *
 * An optional path argument replaces config/dagger.schema.json (used by the tests).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CONFIG_JSON_SCHEMA_PATH, configJsonSchemaText } from "../lib/config/json-schema.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const check = args.includes("--check");
const unknown = args.filter((arg) => arg.startsWith("-") && arg !== "--check");
if (unknown.length > 0) {
  console.error(`unknown option ${unknown.join(", ")}: use --check or no option`);
  process.exit(2);
}
const target = args.find((arg) => !arg.startsWith("-")) ?? CONFIG_JSON_SCHEMA_PATH;
const path = isAbsolute(target) ? target : resolve(root, target);
const shown = relative(root, path).startsWith("..") ? path : relative(root, path);
const expected = configJsonSchemaText();

if (check) {
  let actual: string | undefined;
  try {
    actual = readFileSync(path, "utf8");
  } catch {
    actual = undefined;
  }
  if (actual !== expected) {
    const why = actual === undefined ? " (file is missing)" : "";
    console.error(`${shown} is out of date${why}: run npm run schema:generate`);
    process.exit(1);
  }
  console.log(`${shown} is up to date`);
} else {
  writeFileSync(path, expected);
  console.log(`wrote ${shown}`);
}
