// The ChurnModel the operator's unit tests build objects for: team-a/bank, any source, with the
// spec and metadata a test needs laid over it. Test support: outside operator/src, not built.
import type { ChurnModel } from "../src/api/churn-model.js";

/** ChurnModel team-a/bank (uid u1, 3 replicas, explanations on) with `spec` and `metadata` over it. */
export function churnModelFixture(
  spec: Partial<ChurnModel["spec"]> = {},
  metadata: ChurnModel["metadata"] = {},
): ChurnModel {
  return {
    apiVersion: "churn.mlops.dev/v1alpha1",
    kind: "ChurnModel",
    metadata: { name: "bank", namespace: "team-a", uid: "u1", ...metadata },
    spec: { source: { latestFrom: {} }, replicas: 3, explanations: { enabled: true }, ...spec },
  };
}
