// The real v0.21.8 API schema (double/schema/schema.graphqls, committed), built with graphql-js.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { buildSchema, type GraphQLSchema } from "graphql";
import { repoRoot } from "../util.js";

let cached: { path: string; schema: GraphQLSchema } | undefined;

export function schemaPath(): string {
  const fromEnv = process.env["DAGGER_SCHEMA_PATH"];
  const p = fromEnv ? resolve(fromEnv) : resolve(repoRoot, "double/schema/schema.graphqls");
  if (!existsSync(p)) {
    throw new Error(`engine double: the Dagger API schema was not found at ${p} (set DAGGER_SCHEMA_PATH)`);
  }
  return p;
}

export function loadSchema(path = schemaPath()): GraphQLSchema {
  if (cached?.path === path) return cached.schema;
  const schema = buildSchema(readFileSync(path, "utf8"));
  cached = { path, schema };
  return schema;
}
