import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Pinned upstream versions of the local cluster's binaries. Changing a pin is the only thing
 * that triggers a rebuild: binaries are cached per version outside the repository.
 */
export const KUBERNETES_VERSION = "v1.37.2";
/** etcd 3.6: Debian's 3.4 lacks the watch features current apiservers rely on. */
export const ETCD_VERSION = "v3.6.16";

/** The Kubernetes programs built from `k8s.io/kubernetes/cmd/<name>`. */
export const KUBERNETES_COMMANDS = [
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kube-proxy",
  "kubectl",
] as const;

export type KubernetesCommand = (typeof KUBERNETES_COMMANDS)[number];

/** Root of the binary cache: `$CHURN_CLUSTER_CACHE`, else `${XDG_CACHE_HOME:-~/.cache}/churn-operator`. */
export function cacheRoot(): string {
  const explicit = process.env.CHURN_CLUSTER_CACHE;
  if (explicit) return explicit;
  const xdg = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(xdg, "churn-operator");
}

/** Directory holding the built binaries for the pinned Kubernetes version. */
export function kubernetesBinDir(): string {
  return join(cacheRoot(), "k8s", KUBERNETES_VERSION, "bin");
}

/** Directory holding the built etcd binary for the pinned etcd version. */
export function etcdBinDir(): string {
  return join(cacheRoot(), "etcd", ETCD_VERSION, "bin");
}
