import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { KubeConfig } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { cachedBinaries } from "../../../../cluster/build-binaries.js";
import { FIELD_MANAGER } from "../../../../operator/src/api/group.js";
import {
  churnModelType,
  scoringRunType,
  trainingRunType,
} from "../../../../operator/src/controllers/shared/custom-resources.js";
import { KubeClient } from "../../../../operator/src/kube/kube-client.js";
import type { KubeObject } from "../../../../operator/src/kube/kube-object.js";
import type { ResourceType } from "../../../../operator/src/kube/resource-type.js";
import { Resources } from "../../../../operator/src/kube/resources.js";

/**
 * The operator's own API client with admin credentials (the test's or the demo's rights, not
 * the operator's). Suites pass `testCluster().kc`, the demo its kubeconfig.
 */
export function adminClient(kc: KubeConfig): KubeClient {
  return new KubeClient(kc);
}

const rbac = (plural: string, kind: string, namespaced: boolean): ResourceType => ({
  group: "rbac.authorization.k8s.io",
  version: "v1",
  kind,
  plural,
  namespaced,
});

/** Resource types by kind, for applying manifests read from YAML. */
export const typesByKind: Record<string, ResourceType> = {
  TrainingRun: trainingRunType,
  ChurnModel: churnModelType,
  ScoringRun: scoringRunType,
  ConfigMap: Resources.configMaps,
  Namespace: Resources.namespaces,
  ServiceAccount: Resources.serviceAccounts,
  CustomResourceDefinition: Resources.customResourceDefinitions,
  Deployment: Resources.deployments,
  Service: Resources.services,
  Job: Resources.jobs,
  Pod: Resources.pods,
  Lease: Resources.leases,
  ClusterRole: rbac("clusterroles", "ClusterRole", false),
  ClusterRoleBinding: rbac("clusterrolebindings", "ClusterRoleBinding", false),
  Role: rbac("roles", "Role", true),
  RoleBinding: rbac("rolebindings", "RoleBinding", true),
  PersistentVolume: {
    group: "",
    version: "v1",
    kind: "PersistentVolume",
    plural: "persistentvolumes",
    namespaced: false,
  },
  PersistentVolumeClaim: {
    group: "",
    version: "v1",
    kind: "PersistentVolumeClaim",
    plural: "persistentvolumeclaims",
    namespaced: true,
  },
};

/** The resource type of an object, by its kind. */
export function typeOf(obj: KubeObject): ResourceType {
  const t = typesByKind[obj.kind ?? ""];
  if (!t) throw new Error(`test support: no resource type for kind ${obj.kind}`);
  return t;
}

/** Server-side applies an object as the test ("kubectl apply --server-side"). */
export function apply<T extends KubeObject>(client: KubeClient, obj: T): Promise<T> {
  return client.apply(typeOf(obj), obj, { fieldManager: "integration-test", force: true });
}

/**
 * Applies manifest text with the real kubectl (the local cluster's, or kubectl on PATH), so
 * the manifest is read the way users' manifests are: by kubectl's YAML 1.1-style reader.
 * Returns kubectl's exit status and output; never throws on a refusal.
 */
export function kubectlApply(
  manifest: string,
  kubeconfig: string,
): { status: number; output: string } {
  const kubectl = cachedBinaries()?.kubectl ?? "kubectl";
  const r = spawnSync(kubectl, ["apply", "--server-side", "-f", "-"], {
    input: manifest,
    encoding: "utf8",
    env: { ...process.env, KUBECONFIG: kubeconfig },
  });
  if (r.error) throw new Error(`${kubectl}: ${r.error.message}`);
  return { status: r.status ?? 1, output: `${r.stdout}${r.stderr}` };
}

/** Every document of a YAML file. */
export function readYaml(path: string): KubeObject[] {
  return parseAllDocuments(readFileSync(path, "utf8"))
    .map((d) => d.toJS() as KubeObject)
    .filter((o) => o && typeof o === "object");
}

export { FIELD_MANAGER };
