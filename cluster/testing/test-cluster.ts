import { randomBytes } from "node:crypto";
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, inject } from "vitest";
import { waitFor } from "./wait-for.js";

// What the integration tier's global setup (test/integration/global-setup.ts) provides.
declare module "vitest" {
  export interface ProvidedContext {
    /** Path of the kubeconfig every integration suite uses. */
    kubeconfig: string;
    /** "process": the local process-node cluster; "existing": one we were pointed at (kind). */
    clusterFlavour: "process" | "existing";
  }
}

/** API clients for the cluster the integration suite runs against. */
export interface TestCluster {
  /** Path of the admin kubeconfig (for programs the test runs, such as kubectl). */
  kubeconfig: string;
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  batch: BatchV1Api;
  discovery: DiscoveryV1Api;
  rbac: RbacAuthorizationV1Api;
  /** "process" for the local process-node cluster, "existing" for kind or another cluster. */
  flavour: "process" | "existing";
}

/**
 * Clients for the suite's cluster, from the kubeconfig the global setup provided: the one way
 * an integration suite reaches its cluster.
 */
export function testCluster(): TestCluster {
  const kubeconfig = inject("kubeconfig");
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return {
    kubeconfig,
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    batch: kc.makeApiClient(BatchV1Api),
    discovery: kc.makeApiClient(DiscoveryV1Api),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
    flavour: inject("clusterFlavour"),
  };
}

/**
 * Why a suite that needs the process node is skipped on another cluster (kind), or false: it
 * runs the project's images as local commands, reads this machine's paths through hostPath
 * volumes, or needs a container's host process.
 */
export const noProcessNode =
  inject("clusterFlavour") === "existing"
    ? "needs the local process-node cluster (project images mapped to local commands)"
    : false;

/**
 * Creates a fresh namespace named `<prefix>-<random>` and waits for its default
 * ServiceAccount (pods are rejected until it exists). Returns its name.
 */
export async function createTestNamespace(cluster: TestCluster, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  await cluster.core.createNamespace({
    body: { metadata: { name, labels: { "churn.mlops.dev/test": "true" } } },
  });
  await waitFor(`the default ServiceAccount in ${name}`, async () => {
    await cluster.core.readNamespacedServiceAccount({ name: "default", namespace: name });
    return true;
  });
  return name;
}

/** Deletes a test namespace and waits until it is gone (so its pods have stopped). */
export async function deleteTestNamespace(cluster: TestCluster, name: string): Promise<void> {
  try {
    await cluster.core.deleteNamespace({ name });
  } catch {
    return;
  }
  await waitFor(
    `namespace ${name} to be deleted`,
    async () => {
      try {
        await cluster.core.readNamespace({ name });
        return false;
      } catch {
        return true;
      }
    },
    { timeoutMs: 180_000 },
  );
}

/**
 * A fresh namespace for the enclosing `describe`: created before its tests (see
 * {@link createTestNamespace}), deleted and waited for after them, once the block's own
 * afterAll hooks have run. Returns the suite's cluster and the namespace's name.
 */
export function useTestNamespace(prefix: string): { cluster: TestCluster; ns: () => string } {
  const cluster = testCluster();
  let name = "";
  beforeAll(async () => {
    name = await createTestNamespace(cluster, prefix);
  });
  afterAll(async () => {
    if (name) await deleteTestNamespace(cluster, name);
  });
  return { cluster, ns: () => name };
}
