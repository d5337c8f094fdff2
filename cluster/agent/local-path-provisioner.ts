import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  CoreV1Api,
  type KubeConfig,
  StorageV1Api,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
  type V1StorageClass,
} from "@kubernetes/client-node";
import { describeError } from "./describe-error.js";

/** The provisioner name StorageClasses refer to. */
export const LOCAL_PATH_PROVISIONER = "churn.mlops.dev/local-path";
const PROVISIONED_BY = "pv.kubernetes.io/provisioned-by";
const SELECTED_NODE = "volume.kubernetes.io/selected-node";

/** The PersistentVolume that satisfies a claim: a host directory named after the claim's uid. */
export function volumeForClaim(
  pvc: V1PersistentVolumeClaim,
  sc: V1StorageClass,
  volumesDir: string,
): V1PersistentVolume {
  const uid = pvc.metadata?.uid ?? "";
  const name = `pvc-${uid}`;
  const node = pvc.metadata?.annotations?.[SELECTED_NODE];
  return {
    metadata: { name, annotations: { [PROVISIONED_BY]: LOCAL_PATH_PROVISIONER } },
    spec: {
      capacity: { storage: String(pvc.spec?.resources?.requests?.storage ?? "1Gi") },
      accessModes: pvc.spec?.accessModes ?? ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? "Delete",
      storageClassName: sc.metadata?.name,
      volumeMode: pvc.spec?.volumeMode ?? "Filesystem",
      hostPath: { path: join(volumesDir, name), type: "DirectoryOrCreate" },
      claimRef: {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        namespace: pvc.metadata?.namespace,
        name: pvc.metadata?.name,
        uid,
      },
      ...(node
        ? {
            nodeAffinity: {
              required: {
                nodeSelectorTerms: [
                  {
                    matchExpressions: [
                      { key: "kubernetes.io/hostname", operator: "In", values: [node] },
                    ],
                  },
                ],
              },
            },
          }
        : {}),
    },
  };
}

/** A pending, unbound, live claim, whose pod is scheduled if the class waits for one. */
function claimWantsVolume(pvc: V1PersistentVolumeClaim, sc: V1StorageClass): boolean {
  if (pvc.spec?.volumeName || pvc.status?.phase !== "Pending") return false;
  if (pvc.metadata?.deletionTimestamp) return false;
  const waitForConsumer = sc.volumeBindingMode === "WaitForFirstConsumer";
  return !(waitForConsumer && !pvc.metadata?.annotations?.[SELECTED_NODE]);
}

/** A volume this provisioner made, released by its claim, with reclaim policy Delete. */
function isReleasedForDeletion(pv: V1PersistentVolume): boolean {
  return (
    pv.metadata?.annotations?.[PROVISIONED_BY] === LOCAL_PATH_PROVISIONER &&
    pv.status?.phase === "Released" &&
    pv.spec?.persistentVolumeReclaimPolicy === "Delete"
  );
}

/**
 * Dynamic provisioning for the local cluster, in the manner of kind's local-path provisioner:
 * claims of a StorageClass naming {@link LOCAL_PATH_PROVISIONER} get a hostPath
 * PersistentVolume under `volumesDir` (once a pod is scheduled, for WaitForFirstConsumer), and
 * released volumes with reclaim policy Delete are removed with their data. The real PV
 * controller does the binding.
 */
export class LocalPathProvisioner {
  private readonly core: CoreV1Api;
  private readonly storage: StorageV1Api;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    kc: KubeConfig,
    private readonly volumesDir: string,
    private readonly log: (msg: string) => void,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.storage = kc.makeApiClient(StorageV1Api);
  }

  /** One pass over claims and volumes; idempotent. */
  async reconcile(): Promise<void> {
    const classes = (await this.storage.listStorageClass()).items.filter(
      (sc) => sc.provisioner === LOCAL_PATH_PROVISIONER,
    );
    if (classes.length === 0) return;
    const volumes = (await this.core.listPersistentVolume()).items;
    await this.provisionClaims(classes, new Set(volumes.map((v) => v.metadata?.name)));
    await this.deleteReleased(volumes);
  }

  /** Creates a volume for each pending claim of our classes that has none yet. */
  private async provisionClaims(
    classes: V1StorageClass[],
    existing: Set<string | undefined>,
  ): Promise<void> {
    for (const pvc of (await this.core.listPersistentVolumeClaimForAllNamespaces()).items) {
      const sc = classes.find((c) => c.metadata?.name === pvc.spec?.storageClassName);
      if (!sc || !claimWantsVolume(pvc, sc)) continue;
      const pv = volumeForClaim(pvc, sc, this.volumesDir);
      if (existing.has(pv.metadata?.name)) continue;
      mkdirSync(pv.spec?.hostPath?.path ?? "", { recursive: true });
      await this.core.createPersistentVolume({ body: pv });
      this.log(
        `provisioned ${pv.metadata?.name} for ${pvc.metadata?.namespace}/${pvc.metadata?.name}`,
      );
    }
  }

  /** Removes our released volumes whose reclaim policy is Delete, with their data. */
  private async deleteReleased(volumes: V1PersistentVolume[]): Promise<void> {
    for (const pv of volumes) {
      if (!isReleasedForDeletion(pv)) continue;
      const path = pv.spec?.hostPath?.path;
      if (path?.startsWith(`${this.volumesDir}/`)) rmSync(path, { recursive: true, force: true });
      await this.core.deletePersistentVolume({ name: pv.metadata?.name ?? "" });
      this.log(`deleted released ${pv.metadata?.name}`);
    }
  }

  /** Reconciles every second until stopped. */
  start(): void {
    const tick = async () => {
      if (this.stopped) return;
      try {
        await this.reconcile();
      } catch (err) {
        this.log(`provisioner pass failed: ${describeError(err)}`);
      }
      if (!this.stopped) this.timer = setTimeout(tick, 1000);
    };
    void tick();
  }

  /** Stops the loop. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
