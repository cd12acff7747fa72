import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

// Suites that spawn many processes or start services: one file at a time on a 2-core machine.
export default defineConfig({
  resolve: base.resolve,
  test: {
    include: ["tests/**/*.slow.test.ts"],
    exclude: ["node_modules/**"],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
