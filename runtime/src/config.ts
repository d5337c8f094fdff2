// The server's settings: each has one default here, can be given as a CLI flag or an
// environment variable (for the container), and is validated with a message naming it.
import { z } from "zod";
import { LOG_LEVELS } from "./logger.js";
import { SCORING_ENGINE_SETTINGS, type ScoringEngineSetting } from "./model/engine-choice.js";

/** Validated runtime settings. */
export interface RuntimeConfig {
  modelDir: string;
  port: number;
  host: string;
  expectedDigest: string | undefined;
  featuresFile: string | undefined;
  /** Rows per score request. */
  maxBatch: number;
  /** Rows per explain request (SHAP is ~100x the cost of scoring). */
  maxExplainRows: number;
  maxBodyBytes: number;
  /** SHAP worker threads. */
  explainWorkers: number;
  /** onnxruntime intra-op threads per run. */
  intraOpThreads: number;
  /** `auto`: the compiled engine when it reproduces onnxruntime at load; `onnxruntime`: always the reference. */
  scoringEngine: ScoringEngineSetting;
  /** Rows in the drift/positive-rate sliding window. */
  driftWindow: number;
  /** Top positive/negative drivers listed per explanation. */
  topDrivers: number;
  /** Seconds to finish in-flight requests after SIGTERM before forcing exit. */
  shutdownGraceSeconds: number;
  /**
   * Seconds to keep accepting requests after SIGTERM, unready, before closing the listener:
   * the time Kubernetes needs to take the pod out of its Services' endpoints (0 off the cluster).
   */
  shutdownDelaySeconds: number;
  logLevel: (typeof LOG_LEVELS)[number];
  /** When false, explain requests get 403 (the ChurnModel's `explanations.enabled`). */
  explanationsEnabled: boolean;
  /** Overrides the model card's decision threshold for labels (the ChurnModel's `threshold`). */
  decisionThreshold: number | undefined;
  /** Port of the Open Inference Protocol's gRPC service (0: any free port); off when unset. */
  grpcPort: number | undefined;
}

/** Each setting's flag, environment variable and default. */
export const SETTINGS = {
  modelDir: { flag: "model-dir", env: "CHURN_MODEL_DIR", default: undefined },
  port: { flag: "port", env: "CHURN_RUNTIME_PORT", default: 8080 },
  host: { flag: "host", env: "CHURN_RUNTIME_HOST", default: undefined },
  expectedDigest: { flag: "expected-digest", env: "CHURN_EXPECTED_DIGEST", default: undefined },
  featuresFile: { flag: "features", env: "CHURN_FEATURES_FILE", default: undefined },
  maxBatch: { flag: "max-batch", env: "CHURN_MAX_BATCH", default: 1000 },
  maxExplainRows: { flag: "max-explain-rows", env: "CHURN_MAX_EXPLAIN_ROWS", default: 100 },
  maxBodyBytes: { flag: "max-body-bytes", env: "CHURN_MAX_BODY_BYTES", default: 4 * 1024 * 1024 },
  explainWorkers: { flag: "explain-workers", env: "CHURN_EXPLAIN_WORKERS", default: 2 },
  intraOpThreads: { flag: "intra-op-threads", env: "CHURN_INTRA_OP_THREADS", default: 1 },
  scoringEngine: { flag: "scoring-engine", env: "CHURN_SCORING_ENGINE", default: "auto" },
  driftWindow: { flag: "drift-window", env: "CHURN_DRIFT_WINDOW", default: 1000 },
  topDrivers: { flag: "top-drivers", env: "CHURN_TOP_DRIVERS", default: 3 },
  shutdownGraceSeconds: {
    flag: "shutdown-grace-seconds",
    env: "CHURN_SHUTDOWN_GRACE_SECONDS",
    default: 25,
  },
  shutdownDelaySeconds: {
    flag: "shutdown-delay-seconds",
    env: "CHURN_SHUTDOWN_DELAY_SECONDS",
    default: 0,
  },
  logLevel: { flag: "log-level", env: "LOG_LEVEL", default: "info" },
  explanationsEnabled: { flag: "explanations", env: "CHURN_EXPLANATIONS_ENABLED", default: "true" },
  decisionThreshold: {
    flag: "decision-threshold",
    env: "CHURN_DECISION_THRESHOLD",
    default: undefined,
  },
  grpcPort: { flag: "grpc-port", env: "CHURN_GRPC_PORT", default: undefined },
} as const;

export type SettingName = keyof typeof SETTINGS;

const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const configSchema = z.object({
  modelDir: z.string({ error: "is required" }).min(1, { error: "is required" }),
  port: count(0, 65535),
  // Off-cluster the server stays on loopback unless told otherwise; in a pod it must listen on
  // the pod IP, so Kubernetes (KUBERNETES_SERVICE_HOST) switches the default to all interfaces.
  host: z.string().min(1),
  expectedDigest: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, { error: "must be a sha256 digest (64 hex characters)" })
    .optional(),
  featuresFile: z.string().min(1).optional(),
  maxBatch: count(1, 100_000),
  maxExplainRows: count(1, 100_000),
  maxBodyBytes: count(1024, 1024 * 1024 * 1024),
  explainWorkers: count(1, 64),
  intraOpThreads: count(0, 64),
  scoringEngine: z.enum(SCORING_ENGINE_SETTINGS),
  driftWindow: count(10, 10_000_000),
  topDrivers: count(0, 100),
  shutdownGraceSeconds: z.coerce.number().min(0).max(3600),
  shutdownDelaySeconds: z.coerce.number().min(0).max(300),
  logLevel: z.enum(LOG_LEVELS),
  explanationsEnabled: z
    .union([z.boolean(), z.enum(["true", "false"], { error: "must be true or false" })])
    .transform((v) => v === true || v === "true"),
  decisionThreshold: z.coerce.number().min(0).max(1).optional(),
  grpcPort: count(0, 65535).optional(),
});

/** Raised for invalid settings; the message names the flag and variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Merges flags over environment variables over defaults, and validates the result. */
export function resolveConfig(
  flags: Partial<Record<SettingName, string | number | undefined>>,
  env: NodeJS.ProcessEnv = process.env,
): RuntimeConfig {
  const parsed = configSchema.safeParse(mergeSettings(SETTINGS, flags, env));
  if (!parsed.success) throw new ConfigError(issueMessages(SETTINGS, parsed.error).join("; "));
  return {
    ...parsed.data,
    expectedDigest: parsed.data.expectedDigest?.toLowerCase(),
    featuresFile: parsed.data.featuresFile,
    decisionThreshold: parsed.data.decisionThreshold,
    grpcPort: parsed.data.grpcPort,
  };
}

/** A setting's flag, environment variable and default. */
interface SettingSource {
  flag: string;
  env: string;
  default: unknown;
}

/**
 * Each setting from its flag, else its environment variable (an empty one is unset), else its
 * default; `host` with no default is loopback off-cluster and all interfaces inside a pod.
 */
export function mergeSettings<N extends string>(
  settings: Record<N, SettingSource>,
  flags: Partial<Record<N, string | number | undefined>>,
  env: NodeJS.ProcessEnv,
): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(settings) as [N, SettingSource][]) {
    const fromEnv = env[s.env];
    raw[name] =
      flags[name] ?? (fromEnv === undefined || fromEnv === "" ? undefined : fromEnv) ?? s.default;
  }
  if (raw.host === undefined) raw.host = env.KUBERNETES_SERVICE_HOST ? "0.0.0.0" : "127.0.0.1";
  return raw;
}

/** A validation error's issues, each naming its setting's flag and variable. */
export function issueMessages<N extends string>(
  settings: Record<N, SettingSource>,
  error: z.ZodError,
): string[] {
  return error.issues.map((i) => {
    const s = settings[i.path[0] as N];
    return `--${s.flag} (${s.env}) ${i.message}`;
  });
}
