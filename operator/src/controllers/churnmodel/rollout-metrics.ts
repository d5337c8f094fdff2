import type { Counter, Gauge, Registry } from "prom-client";
import { metricFactory } from "../../../../common/metric-factory.js";
import type { RolloutStatus } from "../../api/rollout.js";

/** Rollout phases, each a series of the churn_rollout_phase state set. */
export const ROLLOUT_PHASES = [
  "Progressing",
  "Paused",
  "Inconclusive",
  "Promoted",
  "RolledBack",
  "Aborted",
] as const;

/** How a rollout ended, as the `outcome` label says it. */
export const ROLLOUT_OUTCOMES = ["Promoted", "RolledBack", "Aborted"] as const;

/**
 * The operator's rollout metrics. Per-model series (`namespace`, `churn_model`), bounded by the
 * number of ChurnModels and removed when one is deleted, as kube-state-metrics does:
 * `churn_rollout_phase` (1 for the current phase), `churn_rollout_canary_weight` (effective),
 * `churn_rollout_step`, `churn_rollout_analysis_score`; and counters without per-model labels:
 * `churn_rollouts_total{outcome,reason}`, `churn_rollout_analysis_total{metric,verdict}`.
 */
export class RolloutMetrics {
  private readonly phase: Gauge<"namespace" | "churn_model" | "phase">;
  private readonly weight: Gauge<"namespace" | "churn_model">;
  private readonly step: Gauge<"namespace" | "churn_model">;
  private readonly score: Gauge<"namespace" | "churn_model">;
  private readonly outcomes: Counter<"outcome" | "reason">;
  private readonly verdicts: Counter<"metric" | "verdict">;

  constructor(registry: Registry) {
    const m = metricFactory(registry);
    const model = ["namespace", "churn_model"] as const;
    this.phase = m.gauge(
      "churn_rollout_phase",
      "1 for the phase a ChurnModel's latest rollout is in, 0 for the others",
      [...model, "phase"],
    );
    this.weight = m.gauge(
      "churn_rollout_canary_weight",
      "Share of requests (percent) the canary really answers",
      model,
    );
    this.step = m.gauge(
      "churn_rollout_step",
      "Index of the rollout step in progress (-1 without a canary)",
      model,
    );
    this.score = m.gauge(
      "churn_rollout_analysis_score",
      "Share of the last analysis's metrics that passed, 0-100",
      model,
    );
    this.outcomes = m.counter(
      "churn_rollouts_total",
      "Rollouts this operator process ended, by outcome and reason",
      ["outcome", "reason"],
    );
    this.verdicts = m.counter(
      "churn_rollout_analysis_total",
      "Analysis metric verdicts, by metric and verdict",
      ["metric", "verdict"],
    );
    for (const outcome of ROLLOUT_OUTCOMES) this.outcomes.inc({ outcome, reason: outcome }, 0);
  }

  /** Sets a model's gauges from its rollout status. */
  observe(namespace: string, model: string, s: RolloutStatus | undefined): void {
    const l = { namespace, churn_model: model };
    for (const phase of ROLLOUT_PHASES) this.phase.set({ ...l, phase }, s?.phase === phase ? 1 : 0);
    this.weight.set(l, s?.canary ? (s.effectiveWeight ?? 0) : 0);
    this.step.set(l, s?.canary ? (s.stepIndex ?? 0) : -1);
    if (s?.analysis?.score !== undefined) this.score.set(l, s.analysis.score);
  }

  /** Counts a rollout's end (once, on the status write that ended it). */
  ended(outcome: string, reason: string): void {
    this.outcomes.inc({ outcome, reason });
  }

  /** Counts the verdicts of one analysis. */
  analysed(metrics: readonly { name: string; verdict: string }[]): void {
    for (const m of metrics) this.verdicts.inc({ metric: m.name, verdict: m.verdict });
  }

  /** Removes a deleted model's series. */
  forget(namespace: string, model: string): void {
    const l = { namespace, churn_model: model };
    for (const phase of ROLLOUT_PHASES) this.phase.remove({ ...l, phase });
    this.weight.remove(l);
    this.step.remove(l);
    this.score.remove(l);
  }
}
