// The one place the integration suite gets its cluster from. Suites read the kubeconfig with
// `inject("kubeconfig")` (or $KUBECONFIG, set here too); see cluster/README.md.
import { homedir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { acquireCluster, releaseCluster } from "../../cluster/index.js";

/** Starts (or reuses) the cluster before any suite runs; returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.USE_EXISTING_CLUSTER === "true") {
    const kubeconfig = process.env.KUBECONFIG || join(homedir(), ".kube", "config");
    process.env.KUBECONFIG = kubeconfig;
    project.provide("kubeconfig", kubeconfig);
    project.provide("clusterFlavour", "existing");
    return async () => {};
  }
  const info = await acquireCluster();
  process.env.KUBECONFIG = info.kubeconfig;
  project.provide("kubeconfig", info.kubeconfig);
  project.provide("clusterFlavour", "process");
  // The last run using a cluster that a run started stops it; one started by hand
  // (`npm run cluster -- up`) stays up.
  return () => releaseCluster();
}
