// The tsconfig the runtime runs a module with (tsutils/tsconfig_updator.go,
// UpdateTSConfigForModule): `paths` for @dagger.io/dagger and @dagger.io/dagger/telemetry forced
// to the generated sdk/, and experimentalDecorators on. A module without one gets a default.
import { stripJsonComments } from "./package-json.js";

type Json = Record<string, unknown>;

const DEFAULT_TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    moduleResolution: "Node",
    experimentalDecorators: true,
    strict: true,
    skipLibCheck: true,
  },
};

export function rewriteTsconfig(text: string | undefined, source = "tsconfig.json"): string {
  let doc: unknown = structuredClone(DEFAULT_TSCONFIG);
  if (text !== undefined) {
    try {
      doc = JSON.parse(stripJsonComments(text).replace(/,(\s*[}\]])/g, "$1"));
    } catch (e) {
      throw new Error(`failed to update tsconfig.json: ${source} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const config = doc as Json;
  const options = (config["compilerOptions"] && typeof config["compilerOptions"] === "object" ? config["compilerOptions"] : {}) as Json;
  const paths = (options["paths"] && typeof options["paths"] === "object" ? options["paths"] : {}) as Json;
  paths["@dagger.io/dagger"] = ["./sdk/index.ts"];
  paths["@dagger.io/dagger/telemetry"] = ["./sdk/telemetry.ts"];
  options["paths"] = paths;
  options["experimentalDecorators"] = true;
  config["compilerOptions"] = options;
  return `${JSON.stringify(config, null, 2)}\n`;
}
