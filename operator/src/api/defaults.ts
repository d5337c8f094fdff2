import type { AutoscalingSpec } from "./autoscaling.js";
import type { AnalysisSpec, RolloutStep } from "./rollout.js";

/**
 * The one home of every default the CRDs and controllers use. Each getter clamps what it is
 * given to a safe range; the CRD schemas carry the same defaults (a unit test checks they agree).
 * Trainer-level defaults (split, hyperparameters, thresholds) stay in the trainer: the operator
 * passes the spec through and never guesses them.
 */
export const Defaults = {
  /** Trainer pod retries for transient failures (data and gate failures never retry). */
  backoffLimit: 2,
  /** Wall-clock limit of a training Job. */
  activeDeadlineSeconds: 3600,
  /** How long a finished training Job (and its pod and logs) is kept. */
  ttlSecondsAfterFinished: 86_400,
  /** Serving replicas of a ChurnModel. */
  replicas: 1,
  /** Whether the scoring endpoint returns SHAP explanations when asked. */
  explanationsEnabled: true,
  /** Container and Service port of the scoring runtime. */
  servingPort: 8080,
  /**
   * Whether serving pods and the router also serve the Open Inference Protocol over gRPC: on,
   * since a KServe or Triton gRPC client should work without a spec change and the port costs
   * an idle listener.
   */
  grpcEnabled: true,
  /** Container and Service port of the gRPC form (KServe's own gRPC port). */
  grpcPort: 8081,
  /**
   * Seconds a serving or router pod keeps answering, unready, after SIGTERM: the time
   * kube-proxy needs to take it out of its Services (a promotion or rollback drops no request).
   */
  shutdownDelaySeconds: 5,
  /** The HPA's CPU target (percent of the pods' request) when autoscaling names no target. */
  autoscalingCPUUtilizationPercent: 70,
} as const;

/** Lower and upper bounds each clamped default must respect. */
export const Limits = {
  backoffLimit: { min: 0, max: 10 },
  activeDeadlineSeconds: { min: 60, max: 7 * 86_400 },
  ttlSecondsAfterFinished: { min: 0, max: 30 * 86_400 },
  replicas: { min: 0, max: 100 },
} as const;

/** `value` (else `fallback`) truncated to an integer and clamped to `lim`. */
export function clamp(
  value: number | undefined,
  fallback: number,
  lim: { min: number; max: number },
) {
  const v = value === undefined || !Number.isFinite(value) ? fallback : Math.trunc(value);
  return Math.min(lim.max, Math.max(lim.min, v));
}

/** Job backoffLimit for a TrainingRun (0..10). */
export function backoffLimitOf(value?: number): number {
  return clamp(value, Defaults.backoffLimit, Limits.backoffLimit);
}

/** Job activeDeadlineSeconds for a TrainingRun (never below a minute). */
export function activeDeadlineSecondsOf(value?: number): number {
  return clamp(value, Defaults.activeDeadlineSeconds, Limits.activeDeadlineSeconds);
}

/** Job ttlSecondsAfterFinished for a TrainingRun. */
export function ttlSecondsAfterFinishedOf(value?: number): number {
  return clamp(value, Defaults.ttlSecondsAfterFinished, Limits.ttlSecondsAfterFinished);
}

/** Serving replicas of a ChurnModel (0..100). */
export function replicasOf(value?: number): number {
  return clamp(value, Defaults.replicas, Limits.replicas);
}

/** Whether explanations are on for a ChurnModel. */
export function explanationsEnabledOf(value?: boolean): boolean {
  return value ?? Defaults.explanationsEnabled;
}

/** Whether the gRPC port is served for a ChurnModel. */
export function grpcEnabledOf(value?: boolean): boolean {
  return value ?? Defaults.grpcEnabled;
}

/** ChurnModel.spec.autoscaling with its default target filled in and min clamped to max. */
export interface ResolvedAutoscaling {
  minReplicas: number;
  maxReplicas: number;
  targetCPUUtilizationPercent?: number;
  targetRequestsPerSecondPerPod?: number;
}

/** Autoscaling settings, or undefined when spec.autoscaling is absent (spec.replicas rules). */
export function autoscalingOf(a?: AutoscalingSpec): ResolvedAutoscaling | undefined {
  if (!a) return undefined;
  const maxReplicas = Math.max(1, Math.trunc(a.maxReplicas));
  const noTarget =
    a.targetCPUUtilizationPercent === undefined && a.targetRequestsPerSecondPerPod === undefined;
  return {
    minReplicas: Math.min(maxReplicas, Math.max(1, Math.trunc(a.minReplicas))),
    maxReplicas,
    targetCPUUtilizationPercent: noTarget
      ? Defaults.autoscalingCPUUtilizationPercent
      : a.targetCPUUtilizationPercent,
    targetRequestsPerSecondPerPod: a.targetRequestsPerSecondPerPod,
  };
}

/** Rollout defaults (ChurnModel.spec.rollout); the CRD states them in descriptions only. */
export const RolloutDefaults = {
  /** Mirror, then 10, 25, 50 percent for 30 s each, then promote. */
  steps: [
    { mirror: { percent: 100, durationSeconds: 30 } },
    { setWeight: 10 },
    { pause: { durationSeconds: 30 } },
    { setWeight: 25 },
    { pause: { durationSeconds: 30 } },
    { setWeight: 50 },
    { pause: { durationSeconds: 30 } },
  ] as const,
  mirrorPercent: 100,
  mirrorDurationSeconds: 30,
  intervalSeconds: 10,
  minIntervalSeconds: 5,
  minSamples: 100,
  /** onNoData: rollback gives up after this many inconclusive analyses in a row. */
  noDataRollbackAfter: 3,
  successRateMin: 0.99,
  latencyMaxRatioToStable: 1.5,
  latencyMaxMs: 250,
  scoreDriftMaxPsi: 0.2,
  mirrorDisagreementMaxRate: 0.05,
  /** Rollouts kept in status.rollout.history. */
  historyLength: 10,
} as const;

/** The rollout's steps: the spec's, else the default list. */
export function rolloutStepsOf(spec?: { steps?: readonly RolloutStep[] }): readonly RolloutStep[] {
  return spec?.steps?.length ? spec.steps : RolloutDefaults.steps;
}

/** Analysis settings with every default filled in and the interval clamped to >= 5 s. */
export function analysisOf(a?: AnalysisSpec): ResolvedAnalysis {
  const m = a?.metrics ?? {};
  return {
    intervalSeconds: clamp(a?.intervalSeconds, RolloutDefaults.intervalSeconds, {
      min: RolloutDefaults.minIntervalSeconds,
      max: 3600,
    }),
    minSamples: clamp(a?.minSamples, RolloutDefaults.minSamples, { min: 1, max: 1_000_000 }),
    onNoData: a?.onNoData ?? "hold",
    successRate:
      m.successRate?.enabled === false
        ? undefined
        : { min: m.successRate?.min ?? RolloutDefaults.successRateMin },
    latencyP99Ms:
      m.latencyP99Ms?.enabled === false
        ? undefined
        : {
            maxRatioToStable:
              m.latencyP99Ms?.maxRatioToStable ?? RolloutDefaults.latencyMaxRatioToStable,
            max: m.latencyP99Ms?.max ?? RolloutDefaults.latencyMaxMs,
          },
    scoreDrift:
      m.scoreDrift?.enabled === false
        ? undefined
        : { maxPsi: m.scoreDrift?.maxPsi ?? RolloutDefaults.scoreDriftMaxPsi },
    mirrorDisagreement:
      m.mirrorDisagreement?.enabled === false
        ? undefined
        : {
            maxRate: m.mirrorDisagreement?.maxRate ?? RolloutDefaults.mirrorDisagreementMaxRate,
          },
    custom: m.custom ?? [],
    provider: a?.provider?.prometheus
      ? { kind: "prometheus", address: a.provider.prometheus.address }
      : { kind: "builtin" },
  };
}

/** Analysis settings after defaulting: a disabled metric is undefined. */
export interface ResolvedAnalysis {
  intervalSeconds: number;
  minSamples: number;
  onNoData: "hold" | "rollback";
  successRate?: { min: number };
  latencyP99Ms?: { maxRatioToStable: number; max: number };
  scoreDrift?: { maxPsi: number };
  mirrorDisagreement?: { maxRate: number };
  custom: NonNullable<NonNullable<AnalysisSpec["metrics"]>["custom"]>;
  provider: { kind: "builtin" } | { kind: "prometheus"; address: string };
}
