import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { KubeConfig } from "@kubernetes/client-node";
import { waitFor } from "../../../../cluster/testing/wait-for.js";
import type { KubeClient } from "../../../../operator/src/kube/kube-client.js";
import type { KubeObject } from "../../../../operator/src/kube/kube-object.js";
import { Resources } from "../../../../operator/src/kube/resources.js";
import { apply, readYaml, typeOf } from "./kube.js";

/** The repository root. */
export const repoRoot = resolve(fileURLToPath(import.meta.url), "../../../../..");
/** The namespace the operator's RBAC (config/rbac) lives in. */
export const OPERATOR_NAMESPACE = "churn-operator-system";

/** Installs the generated CRDs from crds/ and waits until the apiserver serves them. */
export async function installCrds(client: KubeClient): Promise<void> {
  const dir = join(repoRoot, "crds");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".yaml"))) {
    for (const crd of readYaml(join(dir, file))) {
      await apply(client, crd);
      const name = crd.metadata?.name as string;
      await waitFor(`CRD ${name} Established`, async () => {
        const got = await client.get<
          KubeObject & { status?: { conditions?: Array<{ type: string; status: string }> } }
        >(Resources.customResourceDefinitions, undefined, name);
        return got?.status?.conditions?.some(
          (c) => c.type === "Established" && c.status === "True",
        );
      });
    }
  }
}

/** Creates a namespace (idempotent). */
export async function ensureNamespace(client: KubeClient, name: string): Promise<void> {
  await apply(client, { apiVersion: "v1", kind: "Namespace", metadata: { name } });
}

/** Applies config/rbac exactly as committed: the operator runs with these rights and no more. */
export async function installRbac(client: KubeClient): Promise<void> {
  await ensureNamespace(client, OPERATOR_NAMESPACE);
  const dir = join(repoRoot, "config", "rbac");
  for (const file of readdirSync(dir).filter(
    (f) => f.endsWith(".yaml") && f !== "kustomization.yaml",
  )) {
    for (const obj of readYaml(join(dir, file))) {
      typeOf(obj);
      await apply(client, obj);
    }
  }
}

/**
 * A kubeconfig for `admin`'s cluster authenticating as the operator's ServiceAccount (a
 * TokenRequest token), so a test that runs the operator with it proves config/rbac is enough.
 */
export async function operatorKubeconfig(client: KubeClient, admin: KubeConfig): Promise<string> {
  const res = await client.request<{ status: { token: string } }>(
    "POST",
    `/api/v1/namespaces/${OPERATOR_NAMESPACE}/serviceaccounts/churn-operator/token`,
    {
      body: {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { expirationSeconds: 7200 },
      },
    },
  );
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error("admin kubeconfig has no cluster");
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: "churn-operator", token: res.status.token }],
    contexts: [{ name: "operator", cluster: cluster.name, user: "churn-operator" }],
    currentContext: "operator",
  });
  const dir = mkdtempSync(join(tmpdir(), "churn-op-kubeconfig-"));
  const file = join(dir, "kubeconfig");
  writeFileSync(file, kc.exportConfig(), { mode: 0o600 });
  return file;
}

/** Host directories behind a namespace's volumes: the model store, and the data (read-only). */
export interface HostDirs {
  modelsDir?: string;
  dataDir?: string;
}

/**
 * Readies `ns` for an operator with exactly config/rbac's rights: the CRDs, the RBAC, the
 * namespace and the `churn-models` and `churn-data` claims over the host directories given.
 * Returns a kubeconfig authenticating as the operator's ServiceAccount.
 */
export async function prepareOperatorNamespace(
  client: KubeClient,
  admin: KubeConfig,
  ns: string,
  dirs: HostDirs = {},
): Promise<string> {
  await installCrds(client);
  await installRbac(client);
  await ensureNamespace(client, ns);
  if (dirs.modelsDir) await hostVolume(client, ns, "churn-models", dirs.modelsDir);
  if (dirs.dataDir) await hostVolume(client, ns, "churn-data", dirs.dataDir, true);
  return operatorKubeconfig(client, admin);
}

/**
 * A PersistentVolume over a host directory, pre-bound to a claim of the same purpose in `ns`
 * (the local cluster's node agent mounts hostPath PVs as bind mounts).
 */
export async function hostVolume(
  client: KubeClient,
  ns: string,
  claimName: string,
  hostDir: string,
  readOnly = false,
): Promise<void> {
  const pvName = `${ns}-${claimName}`;
  const accessModes = [readOnly ? "ReadOnlyMany" : "ReadWriteMany"];
  await apply(client, {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: pvName },
    spec: {
      capacity: { storage: "10Gi" },
      accessModes,
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: "",
      hostPath: { path: hostDir, type: "Directory" },
      claimRef: { namespace: ns, name: claimName },
    },
  } as KubeObject);
  await apply(client, {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: claimName, namespace: ns },
    spec: {
      accessModes,
      storageClassName: "",
      volumeName: pvName,
      resources: { requests: { storage: "10Gi" } },
    },
  } as KubeObject);
}
