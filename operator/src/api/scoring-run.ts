import { z } from "zod";
import type { KubeObject } from "../kube/kube-object.js";
import { exactlyOneOf } from "./exactly-one-of.js";
import { specImmutableOnceJobNamed } from "./immutable-once-started.js";
import { conditionSchema, localRefSchema, resourcesSchema } from "./kube-schemas.js";
import { s3PrefixSchema } from "./s3-source.js";
import { ScoringDefaults, ScoringLimits } from "./scoring-defaults.js";
import { csvDelimiterSchema, dataSourceFields, volumeRelativePathSchema } from "./training-run.js";

const digestSchema = z
  .string()
  .regex(/^[0-9a-f]{64}$/)
  .describe("sha256 of model.onnx (64 lower-case hex digits); names the artifact directory.");

/** Which model scores: a ChurnModel's stable version when the run starts, or a fixed digest. */
export const scoringModelSchema = z
  .object({
    churnModelRef: localRefSchema
      .optional()
      .describe(
        "Score with the version this ChurnModel serves as stable when the run starts (recorded in status.model).",
      ),
    digest: digestSchema.optional(),
  })
  .describe("The model to score with. Set exactly one of churnModelRef, digest.")
  .meta({ "x-kubernetes-validations": [exactlyOneOf(["churnModelRef", "digest"], "model")] });

/** Input file formats. */
export const inputFormats = ["csv", "parquet"] as const;
/** Output file formats. */
export const outputFormats = ["parquet", "csv"] as const;

/** Where the customers to score are: the TrainingRun's source kinds, CSV or Parquet. */
export const scoringInputSchema = z
  .object({
    ...dataSourceFields,
    format: z
      .enum(inputFormats)
      .optional()
      .describe("csv or parquet. Default: parquet when the path ends in .parquet, else csv."),
    delimiter: csvDelimiterSchema,
  })
  .describe(
    "The customers to score: one CSV or Parquet file, or with s3.prefix every object under a prefix (one format, key order; zero-byte markers and _ or . names skipped). Set exactly one of url, persistentVolumeClaim, hostPath, s3. Shards split the bytes: of one file by byte (CSV) or row (Parquet) range, of a prefix as (object, range) pieces of ~1/N of all bytes each.",
  )
  .meta({
    "x-kubernetes-validations": [exactlyOneOf(Object.keys(dataSourceFields), "input")],
  });

/** Where the scores go: a directory of part files, one per shard. */
export const scoringOutputSchema = z
  .object({
    persistentVolumeClaim: z
      .object({
        claimName: z.string().min(1).describe("PVC to write to, mounted read-write."),
        path: volumeRelativePathSchema.describe(
          "Directory inside the volume for part-<index> and rejects-<index> files; created if missing.",
        ),
      })
      .optional()
      .describe("Write the part files to a PersistentVolumeClaim."),
    s3: s3PrefixSchema.optional(),
    format: z
      .enum(outputFormats)
      .default(ScoringDefaults.outputFormat)
      .describe("parquet (the default) or csv."),
  })
  .describe("Where the scores are written. Set exactly one of persistentVolumeClaim, s3.")
  .meta({ "x-kubernetes-validations": [exactlyOneOf(["persistentVolumeClaim", "s3"], "output")] });

const int = (lim: { min: number; max: number }) => z.int().min(lim.min).max(lim.max);

/** A schedule turns a ScoringRun into a template the operator creates runs from. */
export const scoringScheduleSchema = z
  .object({
    cron: z
      .string()
      .min(1)
      .describe("When to score: a cron expression in UTC, e.g. '0 2 * * *' for 02:00 every day."),
    startingDeadlineSeconds: int(ScoringLimits.startingDeadlineSeconds)
      .default(ScoringDefaults.startingDeadlineSeconds)
      .describe(
        "A firing missed by more than this (the operator was down) is skipped, not run late.",
      ),
    historyLimit: int(ScoringLimits.historyLimit)
      .default(ScoringDefaults.historyLimit)
      .describe(
        "Finished runs of this schedule kept; older ones are deleted (their output stays).",
      ),
  })
  .describe(
    "Score on a schedule: this ScoringRun becomes a template and the operator creates one ScoringRun from it per firing, named <name>-<yyyymmddhhmm>, writing under <output path>/<yyyymmddhhmm>, with the model resolved when that run starts.",
  );

/** ScoringRun.spec. */
export const scoringRunSpecSchema = z
  .object({
    model: scoringModelSchema,
    input: scoringInputSchema,
    output: scoringOutputSchema,
    idColumn: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Column identifying a customer, copied to the output. Default: the model's id column.",
      ),
    explain: z
      .object({
        topK: int(ScoringLimits.explainTopK).describe(
          "SHAP drivers written per customer (the largest by absolute contribution).",
        ),
      })
      .optional()
      .describe("Write each customer's top SHAP drivers beside the score (~100x the cost)."),
    shards: int(ScoringLimits.shards)
      .default(ScoringDefaults.shards)
      .describe("Index pods of the Job; each scores its own slice of the input."),
    parallelism: int(ScoringLimits.parallelism)
      .optional()
      .describe("Index pods running at once. Default: all shards."),
    batchRows: int(ScoringLimits.batchRows)
      .default(ScoringDefaults.batchRows)
      .describe("Rows read, scored and written at a time: a shard's memory is bounded by it."),
    maxRejectedRows: z
      .int()
      .min(0)
      .optional()
      .describe(
        "Bad rows (written to rejects files) tolerated over the whole run. Default: no count limit.",
      ),
    maxRejectedPercent: z
      .number()
      .min(0)
      .max(100)
      .default(ScoringDefaults.maxRejectedPercent)
      .describe(
        "Bad rows tolerated, as a percentage of the rows read (of each shard and of the run).",
      ),
    backoffLimitPerIndex: int(ScoringLimits.backoffLimitPerIndex)
      .default(ScoringDefaults.backoffLimitPerIndex)
      .describe("Retries of each shard after failures other than bad data."),
    activeDeadlineSeconds: int(ScoringLimits.activeDeadlineSeconds)
      .default(ScoringDefaults.activeDeadlineSeconds)
      .describe("Wall-clock limit of the whole run, retries included."),
    ttlSecondsAfterFinished: int(ScoringLimits.ttlSecondsAfterFinished)
      .default(ScoringDefaults.ttlSecondsAfterFinished)
      .describe("How long the finished Job and its pods (and logs) are kept."),
    schedule: scoringScheduleSchema.optional(),
    image: z
      .string()
      .min(1)
      .optional()
      .describe("Runtime image override. Default: the operator's --runtime-image."),
    resources: resourcesSchema.optional().describe("Compute resources of each shard's container."),
  })
  .describe(
    "Desired state of a ScoringRun. Editable until the operator starts the run (status.jobName set), immutable after: to score again, create a new ScoringRun.",
  );

/** The ScoringRun's spec is immutable once its Job is named. */
export const scoringSpecImmutableOnceStarted = specImmutableOnceJobNamed("ScoringRun");

/** Phases of a ScoringRun, in order. */
export const scoringRunPhases = ["Pending", "Running", "Succeeded", "Failed", "Scheduled"] as const;
/** One of scoringRunPhases. */
export type ScoringRunPhase = (typeof scoringRunPhases)[number];

const count = z.int().min(0);

/** What one finished shard reported (its pod's termination message). */
export const shardResultSchema = z.object({
  index: count.describe("The shard's completion index."),
  scored: count.describe("Rows scored."),
  rejected: count.describe("Rows rejected (in rejects-<index>.csv)."),
  inputListing: z
    .string()
    .optional()
    .describe(
      "For input.s3.prefix: a digest of the objects the shard listed (keys, sizes, ETags). Shards that listed different objects fail the run with InputChanged.",
    ),
});

/** ScoringRun.status (written only by the operator). */
export const scoringRunStatusSchema = z
  .object({
    phase: z.enum(scoringRunPhases).optional().describe("Where the run is."),
    message: z.string().optional().describe("A human-readable summary of the current state."),
    conditions: z
      .array(conditionSchema)
      .optional()
      .describe("ModelResolved and Succeeded.")
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] }),
    model: z
      .object({
        digest: digestSchema,
        uri: z.string().describe("Where the artifact is, e.g. pvc://churn-models/<digest>."),
        churnModel: z.string().optional().describe("The ChurnModel it was resolved from."),
      })
      .optional()
      .describe("The model version used, fixed when the run started."),
    jobName: z
      .string()
      .optional()
      .describe(
        "Name of the Indexed Job, recorded before the Job is created: from then on the spec is immutable.",
      ),
    shards: z
      .object({
        total: count.describe("Shards of the run."),
        succeeded: count.describe("Shards whose part file is written."),
        failed: count.describe("Shards that failed for good."),
        active: count.describe("Shard pods running."),
      })
      .optional()
      .describe("Progress over the shards."),
    rows: z
      .object({
        scored: count.describe("Rows scored over the shards that succeeded."),
        rejected: count.describe("Rows rejected over the shards that succeeded."),
      })
      .optional()
      .describe("Rows over the shards that succeeded."),
    shardResults: z
      .array(shardResultSchema)
      .optional()
      .describe("Each succeeded shard's counts, kept even after its pod is gone."),
    output: z
      .object({
        location: z.string().describe("Where the part files are, e.g. pvc://scores/nightly."),
        format: z.enum(outputFormats).describe("The part files' format."),
      })
      .optional()
      .describe("Where the scores are."),
    lastScheduleTime: z
      .string()
      .optional()
      .describe("With a schedule: the firing the last run was created for."),
    lastRun: z.string().optional().describe("With a schedule: the name of the last run created."),
    nextScheduleTime: z.string().optional().describe("With a schedule: the next firing."),
    startTime: z.string().optional().describe("When the Job started."),
    completionTime: z.string().optional().describe("When the run reached Succeeded or Failed."),
    durationSeconds: z.number().min(0).optional().describe("From start to completion."),
    observedGeneration: count
      .optional()
      .describe("The .metadata.generation this status describes."),
  })
  .describe("Observed state of a ScoringRun.");

/** ScoringRun.spec after defaulting. */
export type ScoringRunSpec = z.output<typeof scoringRunSpecSchema>;
/** ScoringRun.status. */
export type ScoringRunStatus = z.output<typeof scoringRunStatusSchema>;
/** One shard's counts. */
export type ShardResult = z.output<typeof shardResultSchema>;

/** A ScoringRun object as read from the API. */
export interface ScoringRun extends KubeObject {
  spec: ScoringRunSpec;
  status?: ScoringRunStatus;
}
