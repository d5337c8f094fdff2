// `churn-runtime batch` settings: like the server's, each from a flag, else an environment
// variable, else its default. The shard index defaults to the Indexed Job's
// JOB_COMPLETION_INDEX, so the same pod template serves every index.
import { z } from "zod";
import { ConfigError, issueMessages, mergeSettings } from "../config.js";
import { LOG_LEVELS } from "../logger.js";

/** Validated batch settings. */
export interface BatchConfig {
  modelDir: string;
  expectedDigest: string | undefined;
  input: string;
  inputFormat: "csv" | "parquet";
  delimiter: string;
  output: string;
  outputFormat: "parquet" | "csv";
  shards: number;
  index: number;
  idColumn: string | undefined;
  explainTopK: number;
  batchRows: number;
  maxRejectedRows: number | undefined;
  maxRejectedPercent: number;
  explainWorkers: number;
  intraOpThreads: number;
  decisionThreshold: number | undefined;
  /** Where the shard's JSON summary goes (the pod's termination message file). */
  summaryFile: string | undefined;
  logLevel: (typeof LOG_LEVELS)[number];
}

/** Each batch setting's flag, environment variable and default. */
export const BATCH_SETTINGS = {
  modelDir: { flag: "model-dir", env: "CHURN_MODEL_DIR", default: undefined },
  expectedDigest: { flag: "expected-digest", env: "CHURN_EXPECTED_DIGEST", default: undefined },
  input: { flag: "input", env: "CHURN_BATCH_INPUT", default: undefined },
  inputFormat: { flag: "input-format", env: "CHURN_BATCH_INPUT_FORMAT", default: undefined },
  delimiter: { flag: "delimiter", env: "CHURN_BATCH_DELIMITER", default: "," },
  output: { flag: "output", env: "CHURN_BATCH_OUTPUT", default: undefined },
  outputFormat: { flag: "output-format", env: "CHURN_BATCH_OUTPUT_FORMAT", default: "parquet" },
  shards: { flag: "shards", env: "CHURN_BATCH_SHARDS", default: 1 },
  index: { flag: "index", env: "JOB_COMPLETION_INDEX", default: 0 },
  idColumn: { flag: "id-column", env: "CHURN_BATCH_ID_COLUMN", default: undefined },
  explainTopK: { flag: "explain-top-k", env: "CHURN_BATCH_EXPLAIN_TOP_K", default: 0 },
  batchRows: { flag: "batch-rows", env: "CHURN_BATCH_ROWS", default: 5000 },
  maxRejectedRows: {
    flag: "max-rejected-rows",
    env: "CHURN_MAX_REJECTED_ROWS",
    default: undefined,
  },
  maxRejectedPercent: {
    flag: "max-rejected-percent",
    env: "CHURN_MAX_REJECTED_PERCENT",
    default: 1,
  },
  explainWorkers: { flag: "explain-workers", env: "CHURN_EXPLAIN_WORKERS", default: 1 },
  intraOpThreads: { flag: "intra-op-threads", env: "CHURN_INTRA_OP_THREADS", default: 1 },
  decisionThreshold: {
    flag: "decision-threshold",
    env: "CHURN_DECISION_THRESHOLD",
    default: undefined,
  },
  summaryFile: { flag: "summary-file", env: "CHURN_BATCH_SUMMARY_FILE", default: undefined },
  logLevel: { flag: "log-level", env: "LOG_LEVEL", default: "info" },
} as const;

/** One of the batch settings' names. */
export type BatchSettingName = keyof typeof BATCH_SETTINGS;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const required = z.string({ error: "is required" }).min(1, { error: "is required" });

const batchSchema = z.object({
  modelDir: required,
  expectedDigest: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, { error: "must be a sha256 digest (64 hex characters)" })
    .optional(),
  input: required,
  inputFormat: z.enum(["csv", "parquet"]).optional(),
  delimiter: z.string().length(1),
  output: required,
  outputFormat: z.enum(["parquet", "csv"]),
  shards: int(1, 100_000),
  index: int(0, 100_000),
  idColumn: z.string().min(1).optional(),
  explainTopK: int(0, 100),
  batchRows: int(1, 1_000_000),
  maxRejectedRows: int(0, Number.MAX_SAFE_INTEGER).optional(),
  maxRejectedPercent: z.coerce.number().min(0).max(100),
  explainWorkers: int(1, 64),
  intraOpThreads: int(0, 64),
  decisionThreshold: z.coerce.number().min(0).max(1).optional(),
  summaryFile: z.string().min(1).optional(),
  logLevel: z.enum(LOG_LEVELS),
});

/** The input format: the one given, else parquet for a .parquet path, else csv. */
export function inputFormatOf(input: string, given?: "csv" | "parquet"): "csv" | "parquet" {
  return given ?? (/\.parquet$/i.test(input.replace(/[?#].*$/, "")) ? "parquet" : "csv");
}

/** Merges flags over environment variables over defaults, and validates the result. */
export function resolveBatchConfig(
  flags: Partial<Record<BatchSettingName, string | undefined>>,
  env: NodeJS.ProcessEnv = process.env,
): BatchConfig {
  const parsed = batchSchema.safeParse(mergeSettings(BATCH_SETTINGS, flags, env));
  if (!parsed.success)
    throw new ConfigError(issueMessages(BATCH_SETTINGS, parsed.error).join("; "));
  const c = parsed.data;
  if (c.index >= c.shards) {
    throw new ConfigError(
      `--index (JOB_COMPLETION_INDEX) ${c.index} is not below --shards ${c.shards}`,
    );
  }
  return {
    ...c,
    expectedDigest: c.expectedDigest?.toLowerCase(),
    inputFormat: inputFormatOf(c.input, c.inputFormat),
    idColumn: c.idColumn,
    maxRejectedRows: c.maxRejectedRows,
    decisionThreshold: c.decisionThreshold,
    summaryFile: c.summaryFile,
  };
}
