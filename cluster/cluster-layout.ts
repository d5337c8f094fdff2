import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (the folder above this one). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Every address and port the local cluster uses. The control plane listens on loopback only;
 * pods live on a bridge the cluster creates, and the host side of that bridge is the gateway
 * through which pods reach the apiserver.
 */
export const network = {
  etcdClientPort: 23790,
  etcdPeerPort: 23800,
  apiserverPort: 6443,
  controllerManagerPort: 10257,
  schedulerPort: 10259,
  proxyHealthzPort: 10256,
  proxyMetricsPort: 10249,
  /** The agent's kubelet endpoint, on the gateway address (the nodes' InternalIP). */
  kubeletPort: 10250,
  bridge: "churn0",
  /** Host address on the pod bridge; pods use it as default gateway and apiserver address. */
  gatewayIp: "10.244.0.1",
  podNetwork: "10.244.0.0/16",
  podPrefixLength: 16,
  serviceCidr: "10.96.0.0/16",
  /** First address of the service range: the `kubernetes` Service's ClusterIP. */
  kubernetesServiceIp: "10.96.0.1",
  /** Prefix of every network namespace and host-side veth the agent creates. */
  netnsPrefix: "churn-",
  vethPrefix: "chv",
} as const;

/** Paths under the cluster's working directory (default `<repo>/.cluster`, gitignored). */
export interface ClusterPaths {
  dir: string;
  kubeconfig: string;
  pki: string;
  logs: string;
  etcdData: string;
  pods: string;
  volumes: string;
  state: string;
  agentConfig: string;
  images: string;
  createdMountPoints: string;
}

/** Resolves the cluster directory: `$CHURN_CLUSTER_DIR`, else `<repo>/.cluster`. */
export function clusterPaths(dir = process.env.CHURN_CLUSTER_DIR || join(repoRoot, ".cluster")) {
  const abs = resolve(dir);
  return {
    dir: abs,
    kubeconfig: join(abs, "kubeconfig"),
    pki: join(abs, "pki"),
    logs: join(abs, "logs"),
    etcdData: join(abs, "etcd"),
    pods: join(abs, "pods"),
    volumes: join(abs, "volumes"),
    state: join(abs, "state.json"),
    agentConfig: join(abs, "agent.json"),
    images: join(abs, "images.json"),
    createdMountPoints: join(abs, "created-mount-points.txt"),
  } satisfies ClusterPaths;
}

/** Name of the i-th node (1-based). */
export function nodeName(i: number): string {
  return `churn-node-${i}`;
}

/** The /24 the i-th node (1-based) hands pod addresses out of, inside the pod network. */
export function nodePodCidr(i: number): string {
  if (i < 1 || i > 254) throw new Error(`node index must be in 1..254, got ${i}`);
  return `10.244.${i}.0/24`;
}
