import { type KubeConfig, RbacAuthorizationV1Api, StorageV1Api } from "@kubernetes/client-node";
import { LOCAL_PATH_PROVISIONER } from "./agent/local-path-provisioner.js";
import { DNS_USER, PROVISIONER_USER } from "./control-plane.js";

const isConflict = (err: unknown) => (err as { code?: number }).code === 409;

/** Creates an object, treating "already exists" as success. */
async function ensure(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (!isConflict(err)) throw err;
  }
}

/**
 * Cluster objects every fresh local cluster gets: the provisioner's RBAC and a default
 * StorageClass `standard` (the name and binding mode kind uses), so PVCs without a class are
 * provisioned as they are on kind.
 */
export async function installClusterAddons(admin: KubeConfig): Promise<void> {
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const storage = admin.makeApiClient(StorageV1Api);
  const name = "churn:local-path-provisioner";
  await ensure(() =>
    rbac.createClusterRole({
      body: {
        metadata: { name },
        rules: [
          {
            apiGroups: [""],
            resources: ["persistentvolumes"],
            verbs: ["get", "list", "watch", "create", "delete"],
          },
          {
            apiGroups: [""],
            resources: ["persistentvolumeclaims"],
            verbs: ["get", "list", "watch"],
          },
          {
            apiGroups: ["storage.k8s.io"],
            resources: ["storageclasses"],
            verbs: ["get", "list", "watch"],
          },
          { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
        ],
      },
    }),
  );
  await ensure(() =>
    rbac.createClusterRoleBinding({
      body: {
        metadata: { name },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: PROVISIONER_USER }],
      },
    }),
  );
  const dns = "churn:cluster-dns";
  await ensure(() =>
    rbac.createClusterRole({
      body: {
        metadata: { name: dns },
        rules: [
          { apiGroups: [""], resources: ["services"], verbs: ["list", "watch"] },
          {
            apiGroups: ["discovery.k8s.io"],
            resources: ["endpointslices"],
            verbs: ["list", "watch"],
          },
        ],
      },
    }),
  );
  await ensure(() =>
    rbac.createClusterRoleBinding({
      body: {
        metadata: { name: dns },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: dns },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: DNS_USER }],
      },
    }),
  );
  await ensure(() =>
    storage.createStorageClass({
      body: {
        metadata: {
          name: "standard",
          annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
        },
        provisioner: LOCAL_PATH_PROVISIONER,
        reclaimPolicy: "Delete",
        volumeBindingMode: "WaitForFirstConsumer",
      },
    }),
  );
}
