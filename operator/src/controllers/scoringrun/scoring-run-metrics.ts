import { Counter, Histogram, type Registry } from "prom-client";
import { type Reason, Reasons } from "../../api/reasons.js";

/** How a ScoringRun ended, as the `result` label says it. */
export type ScoringRunResult = "succeeded" | "failed";

/** The reasons a run can end with (decideScoringOutcome's terminal outcomes), created at zero. */
export const SCORING_TERMINAL_REASONS: Record<ScoringRunResult, readonly Reason[]> = {
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
    Reasons.ShardFailed,
    Reasons.DeadlineExceeded,
    Reasons.JobLost,
    Reasons.ScoringFailed,
  ],
};

/**
 * ScoringRun outcomes: `churn_scoringrun_completions_total{result,reason}`,
 * `churn_scoringrun_duration_seconds{result}` and `churn_scoringrun_rows_total{outcome}`
 * (scored, rejected). Bounded labels only; which run is in its status and Events.
 */
export class ScoringRunMetrics {
  private readonly completions: Counter<"result" | "reason">;
  private readonly duration: Histogram<"result">;
  private readonly rows: Counter<"outcome">;

  constructor(registry: Registry) {
    this.completions = new Counter({
      name: "churn_scoringrun_completions_total",
      help: "ScoringRuns this operator process saw reach a terminal phase, by result and reason",
      labelNames: ["result", "reason"],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: "churn_scoringrun_duration_seconds",
      help: "Time from a ScoringRun's Job start to its completion, by result",
      labelNames: ["result"],
      buckets: [10, 30, 60, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400],
      registers: [registry],
    });
    this.rows = new Counter({
      name: "churn_scoringrun_rows_total",
      help: "Rows of finished ScoringRuns, by outcome (scored or rejected)",
      labelNames: ["outcome"],
      registers: [registry],
    });
    for (const [result, reasons] of Object.entries(SCORING_TERMINAL_REASONS)) {
      for (const reason of reasons) this.completions.inc({ result, reason }, 0);
    }
    for (const outcome of ["scored", "rejected"]) this.rows.inc({ outcome }, 0);
  }

  /** Counts one run reaching a terminal phase (called once, on the write that made it so). */
  completed(
    result: ScoringRunResult,
    reason: Reason,
    rows: { scored: number; rejected: number } | undefined,
    durationSeconds: number | undefined,
  ) {
    this.completions.inc({ result, reason });
    if (durationSeconds !== undefined) this.duration.observe({ result }, durationSeconds);
    this.rows.inc({ outcome: "scored" }, rows?.scored ?? 0);
    this.rows.inc({ outcome: "rejected" }, rows?.rejected ?? 0);
  }
}
