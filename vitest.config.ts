import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const sdk = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // The same mapping the engine forces in tsconfig `paths`.
    alias: [
      { find: /^@dagger\.io\/dagger$/, replacement: sdk("./sdk/index.ts") },
      { find: /^@dagger\.io\/dagger\/telemetry$/, replacement: sdk("./sdk/telemetry.ts") },
    ],
  },
  test: {
    include: ["tests/**/*.test.ts"],
    exclude: ["tests/**/*.slow.test.ts", "**/node_modules/**"],
    // The first test to reach a module builds it as the engine's runtime does (an npm install).
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
