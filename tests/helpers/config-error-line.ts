import { ConfigError, parseConfig } from "../../lib/config/index.js";

/** The first line of the ConfigError `text` raises when parsed as `file`: the located message. */
export function configErrorLine(text: string, file: string): string {
  try {
    parseConfig(text, file);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split("\n")[0] ?? "";
    throw error;
  }
  throw new Error("expected a ConfigError");
}
