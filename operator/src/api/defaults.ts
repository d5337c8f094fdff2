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
} as const;

/** Lower and upper bounds each clamped default must respect. */
export const Limits = {
  backoffLimit: { min: 0, max: 10 },
  activeDeadlineSeconds: { min: 60, max: 7 * 86_400 },
  ttlSecondsAfterFinished: { min: 0, max: 30 * 86_400 },
  replicas: { min: 0, max: 100 },
} as const;

function clamp(value: number | undefined, fallback: number, lim: { min: number; max: number }) {
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
