import { churnModelSpecSchema, churnModelStatusSchema } from "./churn-model.js";
import type { CrdDefinition } from "./crd-manifest.js";

/** The ChurnModel kind: what `crds/` is generated from. */
export const churnModelCrd: CrdDefinition = {
  kind: "ChurnModel",
  plural: "churnmodels",
  singular: "churnmodel",
  shortNames: ["chm"],
  description:
    "A ChurnModel serves a validated churn model behind an in-cluster scoring Service, and follows new TrainingRuns when asked to.",
  spec: churnModelSpecSchema,
  status: churnModelStatusSchema,
  printerColumns: [
    { name: "Phase", type: "string", jsonPath: ".status.phase" },
    { name: "Stable", type: "string", jsonPath: ".status.rollout.stable.trainingRun" },
    { name: "Canary", type: "string", jsonPath: ".status.rollout.canary.trainingRun" },
    { name: "Weight", type: "number", jsonPath: ".status.rollout.effectiveWeight" },
    { name: "Rollout", type: "string", jsonPath: ".status.rollout.phase" },
    { name: "Version", type: "string", jsonPath: ".status.serving.trainingRun", priority: 1 },
    { name: "Digest", type: "string", jsonPath: ".status.serving.digest", priority: 1 },
    { name: "Desired", type: "integer", jsonPath: ".spec.replicas" },
    { name: "Ready", type: "integer", jsonPath: ".status.readyReplicas" },
    { name: "Endpoint", type: "string", jsonPath: ".status.endpoint", priority: 1 },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
};
