import { inject } from "vitest";

// Inside vitest only: the integration suite's global setup provides the kubeconfig.
const provided = inject("kubeconfig");
if (provided && !process.env.KUBECONFIG) process.env.KUBECONFIG = provided;

/** Why a suite is skipped when there is no cluster (printed by vitest), or false. */
export const noCluster = process.env.KUBECONFIG
  ? false
  : "KUBECONFIG not set: no cluster to test against";
