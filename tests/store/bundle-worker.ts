// A worker script bundled into one ES module that plain `node` starts in a fraction of tsx's time.
import { build } from "esbuild";

/** Bundles `entry` (a .ts file) into `outfile`. */
export async function bundleWorker(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // ioredis is CommonJS and requires Node built-ins, which an ES module bundle cannot do by itself.
    banner: { js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);' },
    logLevel: "warning",
  });
}
