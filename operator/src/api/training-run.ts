import { z } from "zod";
import type { KubeObject } from "../kube/kube-object.js";
import { Defaults, Limits } from "./defaults.js";
import { exactlyOneOf } from "./exactly-one-of.js";
import { specImmutableOnceJobNamed } from "./immutable-once-started.js";
import {
  artifactRefSchema,
  conditionSchema,
  localRefSchema,
  resourcesSchema,
} from "./kube-schemas.js";
import { s3SourceSchema } from "./s3-source.js";
import { trainerSpecShape } from "./trainer-spec.js";

/** A path inside a volume: relative to its root, never climbing out of it. */
export const volumeRelativePathSchema = z
  .string()
  .min(1)
  .regex(/^[^/]/, "must be relative to the volume root")
  .refine((p) => !p.includes(".."), "must not contain ..")
  .meta({
    "x-kubernetes-validations": [{ rule: "!self.contains('..')", message: "must not contain .." }],
  });

/**
 * The kinds of place a data file can be read from, seen from the cluster: each field is one
 * kind and exactly one is set. The TrainingRun's dataset and the ScoringRun's input share
 * them, so a new kind (s3) is one more entry here for both.
 */
export const dataSourceFields = {
  url: z
    .string()
    .regex(/^https?:\/\//)
    .optional()
    .describe("http(s) URL of the data file; the Job downloads it."),
  persistentVolumeClaim: z
    .object({
      claimName: z.string().min(1).describe("PVC holding the data, mounted read-only."),
      path: volumeRelativePathSchema.describe("Path of the data file inside the volume."),
    })
    .optional()
    .describe("Read the file from a PersistentVolumeClaim."),
  hostPath: z
    .object({
      path: z
        .string()
        .regex(/^\//, "must be absolute")
        .describe("Absolute path of the data file on the node."),
    })
    .optional()
    .describe("Read the file from the node's file system (single-node and test clusters)."),
  s3: s3SourceSchema.optional(),
};

/** The CSV field delimiter, shared by every CSV input. */
export const csvDelimiterSchema = z
  .string()
  .length(1)
  .optional()
  .describe("Field delimiter of the CSV. Default a comma.");

/** The formats a data file can be in. */
export const dataFormats = ["csv", "parquet"] as const;

/** Where the training data is, seen from the cluster: a URL, a PVC, a node path or S3. */
export const datasetSourceSchema = z
  .object({
    ...dataSourceFields,
    format: z
      .enum(dataFormats)
      .optional()
      .describe(
        "csv or parquet. Default: parquet when the path (or S3 key) ends in .parquet, else csv.",
      ),
    delimiter: csvDelimiterSchema,
  })
  .describe(
    "Where the data set is (CSV or Parquet). Set exactly one of url, persistentVolumeClaim, hostPath, s3.",
  )
  .meta({
    "x-kubernetes-validations": [exactlyOneOf(Object.keys(dataSourceFields), "dataset")],
  });

/** TrainingRun.spec: the trainer's spec plus what only Kubernetes needs. */
export const trainingRunSpecSchema = z
  .object({
    ...trainerSpecShape,
    dataset: datasetSourceSchema,
    modelRef: localRefSchema
      .optional()
      .describe(
        "The ChurnModel to feed: a ChurnModel with source.latestFrom serves this run once it passes.",
      ),
    image: z
      .string()
      .min(1)
      .optional()
      .describe("Trainer image override. Default: the operator's --trainer-image."),
    resources: resourcesSchema.optional().describe("Compute resources of the trainer container."),
    backoffLimit: z
      .int()
      .min(Limits.backoffLimit.min)
      .max(Limits.backoffLimit.max)
      .default(Defaults.backoffLimit)
      .describe(
        "Retries of the trainer pod after transient failures. Data validation and gate failures never retry.",
      ),
    activeDeadlineSeconds: z
      .int()
      .min(Limits.activeDeadlineSeconds.min)
      .max(Limits.activeDeadlineSeconds.max)
      .default(Defaults.activeDeadlineSeconds)
      .describe("Wall-clock limit of the whole run, retries included."),
    ttlSecondsAfterFinished: z
      .int()
      .min(Limits.ttlSecondsAfterFinished.min)
      .max(Limits.ttlSecondsAfterFinished.max)
      .default(Defaults.ttlSecondsAfterFinished)
      .describe("How long the finished Job and its pod (and logs) are kept."),
  })
  .describe(
    "Desired state of a TrainingRun. Editable until the operator starts the run (status.jobName set), immutable after: to train again, create a new TrainingRun.",
  );

/** The TrainingRun's spec is immutable once its Job is named (see specImmutableOnceJobNamed). */
export const specImmutableOnceStarted = specImmutableOnceJobNamed("TrainingRun");

/** Phases of a TrainingRun, in order. */
export const trainingRunPhases = [
  "Pending",
  "Validating",
  "Training",
  "Succeeded",
  "Failed",
] as const;
/** One of trainingRunPhases. */
export type TrainingRunPhase = (typeof trainingRunPhases)[number];

/** Test-set metrics copied from the trainer's summary. */
export const trainingMetricsSchema = z
  .object({
    rocAuc: z.number().optional().describe("Area under the ROC curve on the test set."),
    prAuc: z.number().optional().describe("Area under the precision-recall curve."),
    f1: z.number().optional().describe("F1 at the chosen threshold."),
    f2: z.number().optional().describe("F2 at the chosen threshold."),
    precision: z.number().optional().describe("Precision at the chosen threshold."),
    recall: z.number().optional().describe("Recall at the chosen threshold."),
    accuracy: z.number().optional().describe("Accuracy at the chosen threshold."),
    logLoss: z.number().optional().describe("Log-loss."),
    brier: z.number().optional().describe("Brier score."),
    threshold: z.number().optional().describe("The decision threshold chosen."),
    calibration: z
      .enum(["none", "sigmoid", "isotonic"])
      .optional()
      .describe("How probabilities were calibrated (brier is after calibration)."),
    worstSegment: z
      .object({
        name: z.string().describe("Column=value, e.g. Geography=Germany."),
        f2: z.number().describe("The segment's F2 at the chosen threshold."),
        gap: z.number().describe("How far its F2 is below the overall F2."),
      })
      .optional()
      .describe("The declared segment (not flagged small) with the lowest F2."),
    search: z
      .object({
        trials: z.int().min(0).describe("Candidates cross-validated."),
        metric: z.string().describe("The cross-validated metric."),
        cvMean: z.number().describe("The best candidate's mean over the folds."),
        cvStd: z.number().describe("Its standard deviation over the folds."),
        parameters: z
          .record(z.string(), z.union([z.number(), z.string(), z.boolean()]))
          .describe("The chosen hyperparameters."),
      })
      .optional()
      .describe("The hyperparameter search's outcome, when the spec asked for one."),
  })
  .describe("Test-set metrics of the model.");

/** TrainingRun.status (written only by the operator). */
export const trainingRunStatusSchema = z
  .object({
    phase: z.enum(trainingRunPhases).optional().describe("Where the run is."),
    message: z.string().optional().describe("A human-readable summary of the current state."),
    conditions: z
      .array(conditionSchema)
      .optional()
      .describe("DataValidated, Trained, ModelValidated and Succeeded.")
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] }),
    failedChecks: z
      .array(z.string())
      .optional()
      .describe("Names of the data checks or gates that failed, with their observed values."),
    metrics: trainingMetricsSchema.optional(),
    model: artifactRefSchema.optional().describe("The artifact the run produced."),
    jobName: z
      .string()
      .optional()
      .describe(
        "Name of the training Job, recorded before the Job is created: from then on the spec is immutable.",
      ),
    attempts: z.int().min(0).optional().describe("Trainer pods that failed and were retried."),
    startTime: z.string().optional().describe("When the training Job started."),
    completionTime: z.string().optional().describe("When the run reached Succeeded or Failed."),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe("The .metadata.generation this status describes."),
  })
  .describe("Observed state of a TrainingRun.");

/** TrainingRun.spec after defaulting. */
export type TrainingRunSpec = z.output<typeof trainingRunSpecSchema>;
/** TrainingRun.status. */
export type TrainingRunStatus = z.output<typeof trainingRunStatusSchema>;
/** Metrics as stored in status. */
export type TrainingMetrics = z.output<typeof trainingMetricsSchema>;

/** A TrainingRun object as read from the API. */
export interface TrainingRun extends KubeObject {
  spec: TrainingRunSpec;
  status?: TrainingRunStatus;
}
