import type { CrdDefinition } from "./crd-manifest.js";
import {
  specImmutableOnceStarted,
  trainingRunSpecSchema,
  trainingRunStatusSchema,
} from "./training-run.js";

/** The TrainingRun kind: what `crds/` is generated from. */
export const trainingRunCrd: CrdDefinition = {
  kind: "TrainingRun",
  plural: "trainingruns",
  singular: "trainingrun",
  shortNames: ["tr"],
  description:
    "A TrainingRun trains, evaluates and validates one churn model from a data set and a declared schema, as a Kubernetes Job; the result is a content-addressed model artifact.",
  spec: trainingRunSpecSchema,
  status: trainingRunStatusSchema,
  validations: [specImmutableOnceStarted],
  printerColumns: [
    { name: "Phase", type: "string", jsonPath: ".status.phase" },
    { name: "ROC-AUC", type: "number", jsonPath: ".status.metrics.rocAuc" },
    { name: "F2", type: "number", jsonPath: ".status.metrics.f2", priority: 1 },
    { name: "Brier", type: "number", jsonPath: ".status.metrics.brier", priority: 1 },
    {
      name: "Worst-Segment",
      type: "string",
      jsonPath: ".status.metrics.worstSegment.name",
      priority: 1,
    },
    { name: "Digest", type: "string", jsonPath: ".status.model.digest", priority: 1 },
    { name: "Model", type: "string", jsonPath: ".spec.modelRef.name" },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
};
