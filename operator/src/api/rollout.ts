import { z } from "zod";

// ChurnModel.spec.rollout and .status.rollout: how a new model version goes out (a flat step
// list, like Argo Rollouts'), what analysis watches it, and what the operator has decided.
// Defaults live in defaults.ts (rolloutStepsOf, analysisOf, ...); the schema only describes.

const percent = (what: string) => z.int().min(0).max(100).describe(what);

/** One step of a rollout: exactly one of mirror, setWeight, pause. */
export const rolloutStepSchema = z
  .object({
    mirror: z
      .object({
        percent: percent(
          "Share of live requests copied to the canary (0-100). Default 100.",
        ).optional(),
        durationSeconds: z
          .int()
          .min(0)
          .max(86_400)
          .optional()
          .describe("How long to mirror before the next step. Default 30."),
      })
      .optional()
      .describe(
        "Copy requests to the canary without answering with it: its responses are only compared with the stable model's (router traffic only). Users see no canary answer.",
      ),
    setWeight: percent("Share of requests the canary answers (0-100).").optional(),
    pause: z
      .object({
        durationSeconds: z
          .int()
          .min(0)
          .max(7 * 86_400)
          .optional()
          .describe("How long to stay; omit to wait for `kubectl churn promote`."),
      })
      .optional()
      .describe("Hold the current weight for a while, or until promoted by hand."),
  })
  .describe("One rollout step: set exactly one of mirror, setWeight, pause.")
  .meta({
    "x-kubernetes-validations": [
      {
        rule: "(has(self.mirror) ? 1 : 0) + (has(self.setWeight) ? 1 : 0) + (has(self.pause) ? 1 : 0) == 1",
        message: "a step sets exactly one of mirror, setWeight, pause",
      },
    ],
  });

const threshold = (what: string) => z.number().min(0).describe(what);

/** The built-in analysis metrics; each can be turned off or re-thresholded. */
export const analysisMetricsSchema = z
  .object({
    successRate: z
      .object({
        enabled: z.boolean().optional().describe("Default true."),
        min: z
          .number()
          .min(0)
          .max(1)
          .optional()
          .describe(
            "Lowest acceptable share of non-5xx score responses. Default 0.99. Failed only when the canary is below it with statistical confidence and worse than the stable version.",
          ),
      })
      .optional()
      .describe("Errors: canary success rate against a floor and against the stable version."),
    latencyP99Ms: z
      .object({
        enabled: z.boolean().optional().describe("Default true."),
        maxRatioToStable: threshold("Highest canary p99 / stable p99. Default 1.5.").optional(),
        max: threshold("Highest canary p99 in milliseconds. Default 250.").optional(),
      })
      .optional()
      .describe("Latency: the canary's 99th percentile of score request duration."),
    scoreDrift: z
      .object({
        enabled: z.boolean().optional().describe("Default true."),
        maxPsi: threshold(
          "Highest population stability index between canary and stable predicted probabilities. Default 0.2.",
        ).optional(),
      })
      .optional()
      .describe("Score drift: does the canary's probability distribution match the stable one's?"),
    mirrorDisagreement: z
      .object({
        enabled: z.boolean().optional().describe("Default true."),
        maxRate: threshold(
          "Highest share of mirrored requests whose decision (churn or not) differs. Default 0.05.",
        ).optional(),
      })
      .optional()
      .describe("Mirrored requests: the same customer scored by both, decision flips counted."),
    custom: z
      .array(
        z.object({
          name: z.string().min(1).max(63).describe("Metric name in status and events."),
          query: z
            .string()
            .min(1)
            .max(4096)
            .describe(
              "PromQL returning one number; {{namespace}}, {{model}}, {{variant}} (stable|canary), {{pod}} (a pod-name regex of the variant) and {{interval}} are filled in.",
            ),
          successCondition: z
            .string()
            .regex(/^result\s*(<|<=|>|>=|==|!=)\s*-?[0-9.eE+-]+$/)
            .describe("e.g. `result < 0.1`: the query's value compared with a number."),
        }),
      )
      .max(20)
      .optional()
      .describe("Extra PromQL metrics (prometheus provider only)."),
  })
  .describe("What analysis measures.");

/** Where analysis reads its numbers: exactly one provider. */
export const analysisProviderSchema = z
  .object({
    builtin: z
      .object({})
      .optional()
      .describe("Scrape the variants' own /metrics directly: no Prometheus needed."),
    prometheus: z
      .object({
        address: z
          .string()
          .regex(/^https?:\/\//)
          .describe("Base URL of the Prometheus HTTP API, e.g. http://prometheus.monitoring:9090."),
      })
      .optional()
      .describe("Query a Prometheus that scrapes the serving pods (pod and namespace labels)."),
  })
  .describe("Where metrics come from. Default builtin.")
  .meta({
    "x-kubernetes-validations": [
      {
        rule: "(has(self.builtin) ? 1 : 0) + (has(self.prometheus) ? 1 : 0) == 1",
        message: "set exactly one of provider.builtin, provider.prometheus",
      },
    ],
  });

/** Analysis of a canary against the stable version, run every interval while a canary exists. */
export const analysisSchema = z
  .object({
    intervalSeconds: z
      .int()
      .min(5)
      .max(3600)
      .optional()
      .describe("Seconds between analyses. Default 10, never below 5."),
    minSamples: z
      .int()
      .min(1)
      .max(1_000_000)
      .optional()
      .describe(
        "Requests each variant must have served in an interval before any verdict. Default 100.",
      ),
    onNoData: z
      .enum(["hold", "rollback"])
      .optional()
      .describe(
        "What too little data does: hold (default) waits; rollback rolls back after 3 intervals without data. Never promotes.",
      ),
    metrics: analysisMetricsSchema.optional(),
    provider: analysisProviderSchema.optional(),
  })
  .describe("Canary analysis: metrics, thresholds and where they are read.");

/** ChurnModel.spec.rollout. */
export const rolloutSpecSchema = z
  .object({
    trafficRouting: z
      .enum(["router", "replicas"])
      .optional()
      .describe(
        "router (default): a router Deployment splits requests by exact weight, sticky per customer, and can mirror; replicas: no extra hop, the canary gets a share of the pods (the effective weight is in status).",
      ),
    stickyHeader: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe(
        "Router mode: the header whose value keeps a caller on one variant; without it the model's id column in the request body does.",
      ),
    steps: z
      .array(rolloutStepSchema)
      .min(1)
      .max(30)
      .optional()
      .describe(
        "Steps in order. Default: mirror 100% for 30 s, then 10%, 25%, 50% for 30 s each, then promote.",
      ),
    analysis: analysisSchema.optional(),
  })
  .describe("How a new model version goes out: canary steps with analysis.");

/** One metric's latest verdict. */
export const metricResultSchema = z.object({
  name: z.string().describe("Metric name."),
  verdict: z.enum(["Pass", "Fail", "Inconclusive"]).describe("The verdict of the last analysis."),
  value: z.number().optional().describe("The canary's value."),
  stable: z.number().optional().describe("The stable version's value, when compared."),
  threshold: z.string().optional().describe("What the value was held against."),
  samples: z.int().min(0).optional().describe("Canary samples behind the value."),
  message: z.string().optional().describe("Why, in words."),
});

const versionRef = z.object({
  digest: z.string().describe("Model digest."),
  uri: z.string().describe("Artifact URI."),
  trainingRun: z.string().optional().describe("TrainingRun that produced it, when known."),
});

/** ChurnModel.status.rollout. */
export const rolloutStatusSchema = z
  .object({
    phase: z
      .enum(["Progressing", "Paused", "Promoted", "RolledBack", "Aborted", "Inconclusive"])
      .optional()
      .describe("Where the latest rollout stands."),
    stable: versionRef.optional().describe("The version answering users."),
    canary: versionRef.optional().describe("The version rolling out, while one is."),
    stepIndex: z.int().min(0).optional().describe("Index of the current step."),
    stepStartedAt: z.string().optional().describe("When the current step began."),
    startedAt: z.string().optional().describe("When this rollout began."),
    desiredWeight: z.int().min(0).max(100).optional().describe("Canary weight the step asks for."),
    effectiveWeight: z
      .number()
      .min(0)
      .max(100)
      .optional()
      .describe(
        "Canary weight the routing really gives (router: exact; replicas: ready pod ratio).",
      ),
    mirrorPercent: z.int().min(0).max(100).optional().describe("Share of requests mirrored."),
    analysis: z
      .object({
        at: z.string().describe("When the last analysis ran."),
        verdict: z.enum(["Pass", "Fail", "Inconclusive"]),
        metrics: z.array(metricResultSchema),
        windowStart: z.string().optional().describe("Start of the window it measured."),
        score: z
          .int()
          .min(0)
          .max(100)
          .optional()
          .describe("Share of applicable metrics that passed, 0-100."),
        passedSince: z.string().optional().describe("Start of the current run of passes."),
        inconclusiveCount: z.int().min(0).optional().describe("Inconclusive analyses in a row."),
      })
      .optional()
      .describe("The last analysis."),
    reason: z.string().optional().describe("Reason of the last transition."),
    message: z.string().optional().describe("The last transition, in words."),
    rolledBackDigests: z
      .array(z.string())
      .max(20)
      .optional()
      .describe("Digests rolled back or aborted: not tried again until `kubectl churn retry`."),
    handledActions: z
      .array(z.string())
      .max(20)
      .optional()
      .describe("Manual action ids already carried out (promote, abort, retry)."),
    history: z
      .array(
        z.object({
          canary: z.string().describe("Digest rolled out."),
          stable: z.string().optional().describe("Digest it was compared with."),
          outcome: z.enum(["Promoted", "RolledBack", "Aborted"]),
          reason: z.string(),
          message: z.string().optional(),
          startedAt: z.string().optional(),
          endedAt: z.string(),
        }),
      )
      .max(10)
      .optional()
      .describe("The last 10 rollouts, newest first."),
  })
  .describe("The rollout's state: the operator's step index lives here, so any replica resumes.");

/** ChurnModel.spec.rollout as written. */
export type RolloutSpec = z.output<typeof rolloutSpecSchema>;
/** One rollout step. */
export type RolloutStep = z.output<typeof rolloutStepSchema>;
/** Analysis settings as written. */
export type AnalysisSpec = z.output<typeof analysisSchema>;
/** ChurnModel.status.rollout. */
export type RolloutStatus = z.output<typeof rolloutStatusSchema>;
/** One metric's result. */
export type MetricResult = z.output<typeof metricResultSchema>;
/** A version in rollout status. */
export type VersionRef = z.output<typeof versionRef>;
