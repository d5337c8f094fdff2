import { defineConfig } from "vitest/config";

// Integration tier: every test under an `integration/` folder (test/integration/, the local
// cluster's own cluster/integration/, the chart's test/chart/integration/) runs against a real
// cluster. The global setup builds the local cluster's binaries if needed, starts the cluster
// once (or uses an existing one when USE_EXISTING_CLUSTER=true, as the kind workflow does) and
// tears it down after the run.
export default defineConfig({
  test: {
    include: ["**/integration/**/*.test.ts"],
    globalSetup: ["test/integration/global-setup.ts"],
    testTimeout: 240_000,
    hookTimeout: 240_000,
    // Files share one cluster but each works in its own namespace; two at a time suits 2 CPUs.
    maxWorkers: 2,
  },
});
