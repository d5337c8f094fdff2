// Programmatic API of the local cluster, for the integration suite's global setup and the demo.

export { type ClusterBinaries, cachedBinaries, ensureBinaries } from "./build-binaries.js";
export {
  type ClusterInfo,
  type ClusterOwner,
  clusterHealthy,
  clusterOwner,
  clusterStatus,
  type StartClusterOptions,
  startCluster,
  stopCluster,
} from "./cluster.js";
export { clusterPaths, network, repoRoot } from "./cluster-layout.js";
export { acquireCluster, releaseCluster } from "./cluster-lease.js";
export { containerPid, readContainerLog } from "./container-logs.js";
export { type ImageCommand, registerImage } from "./image-registry.js";
export { ETCD_VERSION, KUBERNETES_VERSION } from "./versions.js";
