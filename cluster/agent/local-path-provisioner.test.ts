import { describe, expect, it } from "vitest";
import { LOCAL_PATH_PROVISIONER, volumeForClaim } from "./local-path-provisioner.js";

describe("volumeForClaim", () => {
  const sc = {
    metadata: { name: "standard" },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: "Delete",
  };

  it("makes a hostPath volume pre-bound to the claim, pinned to the scheduler's node", () => {
    const pv = volumeForClaim(
      {
        metadata: {
          name: "data",
          namespace: "ns",
          uid: "u-1",
          annotations: { "volume.kubernetes.io/selected-node": "churn-node-2" },
        },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
      },
      sc,
      "/vols",
    );
    expect(pv.metadata?.name).toBe("pvc-u-1");
    expect(pv.spec?.hostPath?.path).toBe("/vols/pvc-u-1");
    expect(pv.spec?.capacity).toEqual({ storage: "1Gi" });
    expect(pv.spec?.storageClassName).toBe("standard");
    expect(pv.spec?.persistentVolumeReclaimPolicy).toBe("Delete");
    expect(pv.spec?.claimRef).toMatchObject({ namespace: "ns", name: "data", uid: "u-1" });
    expect(
      pv.spec?.nodeAffinity?.required?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.values,
    ).toEqual(["churn-node-2"]);
  });
});
