import type { Registry } from "prom-client";
import { type Reason, Reasons } from "../../api/reasons.js";
import {
  RunOutcomeMetrics,
  type RunResult,
  secondsBetween,
} from "../shared/run-outcome-metrics.js";

/** The reasons a run can end with (decideTrainingOutcome's terminal outcomes). */
export const TERMINAL_REASONS: Record<RunResult, readonly Reason[]> = {
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
 * `churn_trainingrun_duration_seconds{result}` (see RunOutcomeMetrics).
 */
export class TrainingRunMetrics {
  private readonly outcomes: RunOutcomeMetrics;

  constructor(registry: Registry) {
    this.outcomes = new RunOutcomeMetrics(registry, {
      kind: "TrainingRun",
      terminalReasons: TERMINAL_REASONS,
      buckets: [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200],
    });
  }

  /** Counts one run reaching a terminal phase; the duration when both times are known. */
  completed(result: RunResult, reason: Reason, startTime?: string, endTime?: string) {
    this.outcomes.completed(result, reason, secondsBetween(startTime, endTime));
  }
}
