/**
 * The JSON Schema editors use to validate and document config/dagger.yaml, generated from the
 * zod schema so the two cannot disagree.
 */
import { z } from "zod";
import { configSchema } from "./schema.js";

/** Where the generated schema is committed, relative to the repository root. */
export const CONFIG_JSON_SCHEMA_PATH = "config/dagger.schema.json";

/** The schema as file text: stable key order, two-space indent, trailing newline. */
export function configJsonSchemaText(): string {
  const schema = z.toJSONSchema(configSchema, {
    target: "draft-2020-12",
    io: "input",
    override: ({ jsonSchema }) => {
      // z.int() adds the safe-integer bounds; they are noise for someone reading editor hints.
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
      if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
    },
  });
  return `${JSON.stringify(schema, null, 2)}\n`;
}
