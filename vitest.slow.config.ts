import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

// Suites that spawn processes or start services. Each file has its own state dir, volumes and
// servers, and most of their time is spent waiting (open times, probe deadlines, sleeping
// steps), so three run at once on a 2-core machine.
export default defineConfig({
  resolve: base.resolve,
  test: {
    include: ["tests/**/*.slow.test.ts"],
    exclude: ["node_modules/**"],
    fileParallelism: true,
    maxWorkers: 3,
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
