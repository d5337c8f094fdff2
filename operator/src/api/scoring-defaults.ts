// The ScoringRun's defaults and limits, with their getters, beside defaults.ts (the
// TrainingRun's and ChurnModel's) and clamped the same way; the CRD schema is generated with
// the same values (scoring-run.test.ts checks them).
import { clamp } from "./defaults.js";

/** Defaults of a ScoringRun's spec. */
export const ScoringDefaults = {
  /** Index pods of the Indexed Job (each scores one shard of the input). */
  shards: 1,
  /** Per-index retries after a pod fails for a reason other than the data. */
  backoffLimitPerIndex: 2,
  /** Rows scored per onnxruntime run (and per part-file row group): memory is bounded by it. */
  batchRows: 5000,
  /** Bad rows tolerated, as a percentage of the rows read, before a shard (and the run) fails. */
  maxRejectedPercent: 1,
  /** Wall-clock limit of the whole run, retries included. */
  activeDeadlineSeconds: 6 * 3600,
  /** How long the finished Job and its pods (and logs) are kept. */
  ttlSecondsAfterFinished: 86_400,
  /** Output format. */
  outputFormat: "parquet",
  /** A scheduled firing missed by more than this is skipped. */
  startingDeadlineSeconds: 3600,
  /** Finished runs a schedule keeps. */
  historyLimit: 3,
} as const;

/** Bounds of each numeric ScoringRun field (the schema's min/max). */
export const ScoringLimits = {
  shards: { min: 1, max: 1000 },
  parallelism: { min: 1, max: 1000 },
  backoffLimitPerIndex: { min: 0, max: 10 },
  batchRows: { min: 1, max: 100_000 },
  explainTopK: { min: 1, max: 50 },
  activeDeadlineSeconds: { min: 60, max: 7 * 86_400 },
  ttlSecondsAfterFinished: { min: 0, max: 30 * 86_400 },
  startingDeadlineSeconds: { min: 10, max: 7 * 86_400 },
  historyLimit: { min: 1, max: 100 },
} as const;

/** Shard count (1..1000). */
export function shardsOf(value?: number): number {
  return clamp(value, ScoringDefaults.shards, ScoringLimits.shards);
}

/** Pods running at once: the spec's, else one per shard; never more than the shards. */
export function parallelismOf(shards: number, value?: number): number {
  return Math.min(shards, clamp(value, shards, ScoringLimits.parallelism));
}

/** Per-index retries (0..10). */
export function backoffLimitPerIndexOf(value?: number): number {
  return clamp(value, ScoringDefaults.backoffLimitPerIndex, ScoringLimits.backoffLimitPerIndex);
}

/** Rows per scoring batch (1..100,000). */
export function batchRowsOf(value?: number): number {
  return clamp(value, ScoringDefaults.batchRows, ScoringLimits.batchRows);
}

/** Rejected-row percentage limit (0..100). */
export function maxRejectedPercentOf(value?: number): number {
  const v =
    value === undefined || !Number.isFinite(value) ? ScoringDefaults.maxRejectedPercent : value;
  return Math.min(100, Math.max(0, v));
}

/** Job activeDeadlineSeconds of a ScoringRun (never below a minute). */
export function scoringDeadlineSecondsOf(value?: number): number {
  return clamp(value, ScoringDefaults.activeDeadlineSeconds, ScoringLimits.activeDeadlineSeconds);
}

/** Job ttlSecondsAfterFinished of a ScoringRun. */
export function scoringTtlSecondsOf(value?: number): number {
  return clamp(
    value,
    ScoringDefaults.ttlSecondsAfterFinished,
    ScoringLimits.ttlSecondsAfterFinished,
  );
}
