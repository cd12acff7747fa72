import type { File } from "@dagger.io/dagger";
import { parseConfig } from "../config/parse-config.js";
import type { Config } from "../config/schema.js";

/** Reads and validates a config `File`; errors name the file by its base name. */
export async function loadConfig(file: File): Promise<{ config: Config; name: string }> {
  const [name, text] = await Promise.all([file.name(), file.contents()]);
  return { config: parseConfig(text, name), name };
}
