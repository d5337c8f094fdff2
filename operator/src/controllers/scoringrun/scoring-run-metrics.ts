import type { Counter, Registry } from "prom-client";
import { metricFactory } from "../../../../common/metric-factory.js";
import { type Reason, Reasons } from "../../api/reasons.js";
import { RunOutcomeMetrics, type RunResult } from "../shared/run-outcome-metrics.js";

/** The reasons a run can end with (decideScoringOutcome's terminal outcomes), created at zero. */
export const SCORING_TERMINAL_REASONS: Record<RunResult, readonly Reason[]> = {
  succeeded: [Reasons.Succeeded],
  failed: [
    Reasons.ModelNotResolved,
    Reasons.InvalidSpec,
    Reasons.ScoringUnusable,
    Reasons.S3CredentialsRefused,
    Reasons.S3ObjectNotFound,
    Reasons.S3AccessDenied,
    Reasons.ArtifactRejected,
    Reasons.RejectLimitExceeded,
    Reasons.InputChanged,
    Reasons.ShardFailed,
    Reasons.DeadlineExceeded,
    Reasons.JobLost,
    Reasons.ScoringFailed,
  ],
};

/**
 * ScoringRun outcomes: `churn_scoringrun_completions_total{result,reason}`,
 * `churn_scoringrun_duration_seconds{result}` (see RunOutcomeMetrics) and
 * `churn_scoringrun_rows_total{outcome}` (scored, rejected).
 */
export class ScoringRunMetrics {
  private readonly outcomes: RunOutcomeMetrics;
  private readonly rows: Counter<"outcome">;

  constructor(registry: Registry) {
    this.outcomes = new RunOutcomeMetrics(registry, {
      kind: "ScoringRun",
      terminalReasons: SCORING_TERMINAL_REASONS,
      buckets: [10, 30, 60, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400],
    });
    this.rows = metricFactory(registry).counter(
      "churn_scoringrun_rows_total",
      "Rows of finished ScoringRuns, by outcome (scored or rejected)",
      ["outcome"],
    );
    for (const outcome of ["scored", "rejected"]) this.rows.inc({ outcome }, 0);
  }

  /** Counts one run reaching a terminal phase (called once, on the write that made it so). */
  completed(
    result: RunResult,
    reason: Reason,
    rows: { scored: number; rejected: number } | undefined,
    durationSeconds: number | undefined,
  ) {
    this.outcomes.completed(result, reason, durationSeconds);
    this.rows.inc({ outcome: "scored" }, rows?.scored ?? 0);
    this.rows.inc({ outcome: "rejected" }, rows?.rejected ?? 0);
  }
}
