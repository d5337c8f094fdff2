import { inject } from "vitest";

// Inside vitest only: the integration suite's global setup provides the kubeconfig.
const provided = inject("kubeconfig");
if (provided && !process.env.KUBECONFIG) process.env.KUBECONFIG = provided;

/** Why a suite is skipped when there is no cluster (printed by vitest), or false. */
export const noCluster = process.env.KUBECONFIG
  ? false
  : "KUBECONFIG not set: no cluster to test against";

/**
 * Why a suite that runs the trainer and runtime images, reads hostPath volumes from this
 * machine and calls pod IPs directly is skipped on another cluster (kind has no such images
 * until the images issue publishes them, and its hostPaths live inside the node container).
 */
export const noProcessNode =
  noCluster ||
  (inject("clusterFlavour") === "existing"
    ? "needs the local process-node cluster (project images mapped to local commands)"
    : false);
