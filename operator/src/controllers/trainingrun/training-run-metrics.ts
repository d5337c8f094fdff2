import type { Counter, Histogram, Registry } from "prom-client";
import { metricFactory } from "../../../../common/metric-factory.js";
import { type Reason, Reasons } from "../../api/reasons.js";

/** How a TrainingRun ended, as the `result` label says it. */
export type TrainingRunResult = "succeeded" | "failed";

/**
 * The reasons a run can end with (decideTrainingOutcome's terminal outcomes). Their series are
 * created at zero, so `increase()` sees a run's first failure of a kind instead of a series
 * that appears already at 1.
 */
export const TERMINAL_REASONS: Record<TrainingRunResult, readonly Reason[]> = {
  succeeded: [Reasons.Succeeded],
  failed: [
    Reasons.DataValidationFailed,
    Reasons.GateFailed,
    Reasons.ParityFailed,
    Reasons.DeadlineExceeded,
    Reasons.BackoffLimitExceeded,
    Reasons.ModelStoreUnavailable,
    Reasons.TrainingFailed,
    Reasons.OutcomeUnreadable,
  ],
};

/**
 * TrainingRun outcomes: `churn_trainingrun_completions_total{result,reason}` and
 * `churn_trainingrun_duration_seconds{result}` (Job start to completion). Labels are bounded
 * (two results, the reason constants); no namespace or run name: the operator's series already
 * carry the scrape target's `namespace`, and which run failed is in its status and Events
 * (`kubectl get events -A --field-selector reason=<reason>`).
 */
export class TrainingRunMetrics {
  private readonly completions: Counter<"result" | "reason">;
  private readonly duration: Histogram<"result">;

  constructor(registry: Registry) {
    const m = metricFactory(registry);
    this.completions = m.counter(
      "churn_trainingrun_completions_total",
      "TrainingRuns this operator process saw reach a terminal phase, by result and reason",
      ["result", "reason"],
    );
    this.duration = m.histogram(
      "churn_trainingrun_duration_seconds",
      "Time from a TrainingRun's Job start to its completion, by result",
      [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200],
      ["result"],
    );
    for (const [result, reasons] of Object.entries(TERMINAL_REASONS)) {
      for (const reason of reasons) this.completions.inc({ result, reason }, 0);
    }
  }

  /**
   * Counts one run reaching a terminal phase. The caller calls it once per run, on the status
   * write that made the run terminal; duration is observed when both times are known.
   */
  completed(result: TrainingRunResult, reason: Reason, startTime?: string, endTime?: string) {
    this.completions.inc({ result, reason });
    const start = startTime ? Date.parse(startTime) : Number.NaN;
    const end = endTime ? Date.parse(endTime) : Number.NaN;
    if (Number.isFinite(start) && Number.isFinite(end) && end >= start) {
      this.duration.observe({ result }, (end - start) / 1000);
    }
  }
}
