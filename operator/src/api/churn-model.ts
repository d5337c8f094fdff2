import { z } from "zod";
import type { KubeObject } from "../kube/kube-object.js";
import { autoscalingSchema } from "./autoscaling.js";
import { Defaults, Limits } from "./defaults.js";
import {
  artifactRefSchema,
  conditionSchema,
  labelSelectorSchema,
  localRefSchema,
  resourcesSchema,
} from "./kube-schemas.js";
import { rolloutSpecSchema, rolloutStatusSchema } from "./rollout.js";
import { s3AccessSchema } from "./s3-source.js";

/** Where a ChurnModel's model comes from: exactly one of three sources. */
export const churnModelSourceSchema = z
  .object({
    trainingRun: localRefSchema
      .optional()
      .describe("Serve the model of this TrainingRun once it has Succeeded."),
    latestFrom: z
      .object({
        selector: labelSelectorSchema
          .optional()
          .describe(
            "TrainingRuns whose labels match are candidates, besides those whose spec.modelRef names this ChurnModel.",
          ),
      })
      .optional()
      .describe(
        "Serve the newest Succeeded TrainingRun (all gates passed) among the candidates; a newer one replaces the serving version.",
      ),
    artifact: artifactRefSchema
      .extend({
        s3: s3AccessSchema
          .optional()
          .describe(
            "For an s3://bucket/prefix/<digest>/ uri: the store's endpoint, region and credentials Secret. Each serving pod downloads the artifact at start and refuses it unless its _COMPLETE manifest and digest match.",
          ),
      })
      .optional()
      .describe(
        "Serve an artifact that already exists in a model store: pvc://<claim>/<digest>, or s3://<bucket>/<prefix>/<digest>/.",
      ),
  })
  .describe("Where the model comes from. Set exactly one of trainingRun, latestFrom, artifact.")
  .meta({
    "x-kubernetes-validations": [
      {
        rule: "(has(self.trainingRun) ? 1 : 0) + (has(self.latestFrom) ? 1 : 0) + (has(self.artifact) ? 1 : 0) == 1",
        message: "set exactly one of source.trainingRun, source.latestFrom, source.artifact",
      },
    ],
  });

/** ChurnModel.spec. */
export const churnModelSpecSchema = z
  .object({
    source: churnModelSourceSchema,
    replicas: z
      .int()
      .min(Limits.replicas.min)
      .max(Limits.replicas.max)
      .default(Defaults.replicas)
      .describe("Number of serving pods (ignored while spec.autoscaling is set)."),
    autoscaling: autoscalingSchema.optional(),
    resources: resourcesSchema.optional().describe("Compute resources of each serving container."),
    explanations: z
      .object({
        enabled: z
          .boolean()
          .default(Defaults.explanationsEnabled)
          .describe("Whether score requests may ask for SHAP explanations."),
      })
      .default({ enabled: Defaults.explanationsEnabled })
      .describe("SHAP explanations on the scoring endpoint."),
    grpc: z
      .object({
        enabled: z
          .boolean()
          .default(Defaults.grpcEnabled)
          .describe(
            "Whether serving pods (and the router) also speak the Open Inference Protocol over gRPC, on the Service's `grpc` port.",
          ),
      })
      .optional()
      .describe(
        "The Open Inference Protocol's gRPC form beside REST (absent: as with enabled's default).",
      ),
    threshold: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe(
        "Decision threshold override: a probability at or above it is labelled churn. Default: the threshold in the model card.",
      ),
    image: z
      .string()
      .min(1)
      .optional()
      .describe("Runtime image override. Default: the operator's --runtime-image."),
    strategy: z
      .enum(["canary", "direct"])
      .optional()
      .describe(
        "canary (default): a new version rolls out step by step under analysis and rolls back by itself; direct: a plain rolling replace.",
      ),
    rollout: rolloutSpecSchema.optional(),
  })
  .describe("Desired state of a ChurnModel.")
  .meta({
    "x-kubernetes-validations": [
      {
        rule: "!has(self.rollout) || !has(self.rollout.steps) || !has(self.rollout.trafficRouting) || self.rollout.trafficRouting != 'replicas' || self.rollout.steps.all(s, !has(s.mirror))",
        message: "mirror steps need trafficRouting: router (replicas routing cannot copy requests)",
      },
      {
        rule: "!has(self.autoscaling) || !has(self.rollout) || !has(self.rollout.trafficRouting) || self.rollout.trafficRouting != 'replicas'",
        message:
          "autoscaling needs trafficRouting: router (with replicas routing the replica ratio is the canary's weight, which an autoscaler would change)",
      },
      {
        rule: "!has(self.autoscaling) || !has(self.autoscaling.targetCPUUtilizationPercent) && has(self.autoscaling.targetRequestsPerSecondPerPod) || has(self.resources) && has(self.resources.requests) && 'cpu' in self.resources.requests",
        message:
          "a CPU autoscaling target (the default when no target is given) needs spec.resources.requests.cpu: utilization is measured against it",
      },
    ],
  });

/** Per-variant serving state: stable, and canary during a rollout. */
export const variantStatusSchema = z.object({
  name: z.string().describe("Variant name: stable, or canary during a rollout."),
  digest: z.string().describe("Model digest the variant serves."),
  deployment: z.string().describe("Name of the variant's Deployment."),
  replicas: z.int().min(0).describe("Desired pods."),
  readyReplicas: z.int().min(0).describe("Ready pods."),
});

/** ChurnModel.status (written only by the operator). */
export const churnModelStatusSchema = z
  .object({
    phase: z
      .enum(["Pending", "Progressing", "Ready", "Degraded", "Failed"])
      .optional()
      .describe("Short summary for printer columns."),
    serving: z
      .object({
        digest: z.string().describe("Digest of the model being served."),
        uri: z.string().describe("URI of the served artifact."),
        trainingRun: z
          .string()
          .optional()
          .describe("TrainingRun that produced the served model, when known."),
      })
      .optional()
      .describe("The version being served."),
    endpoint: z.string().optional().describe("In-cluster URL of the scoring Service."),
    replicas: z.int().min(0).optional().describe("Desired serving pods over all variants."),
    readyReplicas: z.int().min(0).optional().describe("Ready serving pods over all variants."),
    variants: z.array(variantStatusSchema).optional().describe("Per-variant state."),
    rollout: rolloutStatusSchema.optional(),
    conditions: z
      .array(conditionSchema)
      .optional()
      .describe("Ready, Progressing and Degraded.")
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] }),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe("The .metadata.generation this status describes."),
  })
  .describe("Observed state of a ChurnModel.");

/** ChurnModel.spec after defaulting. */
export type ChurnModelSpec = z.output<typeof churnModelSpecSchema>;
/** ChurnModel.status. */
export type ChurnModelStatus = z.output<typeof churnModelStatusSchema>;

/** A ChurnModel object as read from the API. */
export interface ChurnModel extends KubeObject {
  spec: ChurnModelSpec;
  status?: ChurnModelStatus;
}
