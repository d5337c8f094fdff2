import { cacheRoot, GO_BUILDS, goBuildBinDir } from "./build-cache.mjs";

/** Pinned Kubernetes version of the local cluster (pins live in build-cache.mjs). */
export const KUBERNETES_VERSION = GO_BUILDS.k8s;
/** Pinned etcd version of the local cluster. */
export const ETCD_VERSION = GO_BUILDS.etcd;

/** The Kubernetes programs built from `k8s.io/kubernetes/cmd/<name>`. */
export const KUBERNETES_COMMANDS = [
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kube-proxy",
  "kubectl",
] as const;

export type KubernetesCommand = (typeof KUBERNETES_COMMANDS)[number];

export { cacheRoot };

/** Directory holding the built binaries for the pinned Kubernetes version. */
export function kubernetesBinDir(): string {
  return goBuildBinDir("k8s");
}

/** Directory holding the built etcd binary for the pinned etcd version. */
export function etcdBinDir(): string {
  return goBuildBinDir("etcd");
}
