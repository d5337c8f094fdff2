import { configDefaults, defineConfig } from "vitest/config";

// Unit tier: pure logic, no cluster. A test under an `integration/` folder needs a live
// cluster and runs in the integration tier instead (test/vitest.integration.config.ts).
export default defineConfig({
  test: {
    include: [
      "common/**/*.test.ts",
      "operator/src/**/*.test.ts",
      "runtime/src/**/*.test.ts",
      "cluster/**/*.test.ts",
      "test/**/*.test.ts",
      "scripts/**/*.test.{ts,mjs}",
    ],
    exclude: [...configDefaults.exclude, "**/integration/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
