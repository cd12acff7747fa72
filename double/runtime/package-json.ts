// The package.json the runtime installs from (tsutils/package_json_updator.go,
// UpdatePackageJSONForModule): "type" set to "module", dependencies.typescript added at the
// runtime's default version only when absent, and @dagger.io/dagger removed from dependencies
// and devDependencies (the generated sdk/ replaces it). Comments are stripped first.
import { DEFAULT_TYPESCRIPT_VERSION } from "./toolchain.js";

type Json = Record<string, unknown>;

/** JSON with // and /* *\/ comments, as the runtime accepts it. */
export function stripJsonComments(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === "\\") out += text[++i] ?? "";
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (c === "/" && text[i + 1] === "*") {
      i += 2;
      while (i < text.length && !(text[i] === "*" && text[i + 1] === "/")) i++;
      i++;
    } else out += c;
  }
  return out;
}

function objectAt(doc: Json, key: string): Json | undefined {
  const v = doc[key];
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined;
}

export function rewritePackageJson(text: string, source = "package.json"): string {
  let doc: unknown;
  try {
    doc = JSON.parse(stripJsonComments(text));
  } catch (e) {
    throw new Error(`failed to update package.json: ${source} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new Error(`failed to update package.json: ${source} is not a JSON object`);
  const pkg = doc as Json;
  pkg["type"] = "module";
  const deps = objectAt(pkg, "dependencies") ?? {};
  if (!("typescript" in deps)) deps["typescript"] = DEFAULT_TYPESCRIPT_VERSION;
  delete deps["@dagger.io/dagger"];
  pkg["dependencies"] = deps;
  const dev = objectAt(pkg, "devDependencies");
  if (dev) delete dev["@dagger.io/dagger"];
  return `${JSON.stringify(pkg, null, 2)}\n`;
}
