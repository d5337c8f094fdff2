import { defineConfig } from "vitest/config";

// Unit tier: pure logic next to the code. Integration suites have their own config under test/.
export default defineConfig({
  test: {
    include: [
      "operator/src/**/*.test.ts",
      "runtime/src/**/*.test.ts",
      "test/unit/**/*.test.ts",
      "scripts/**/*.test.ts",
    ],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
