import type { Counter, Histogram, Registry } from "prom-client";
import { metricFactory } from "../../../../common/metric-factory.js";
import type { Reason } from "../../api/reasons.js";

/** How a run (TrainingRun, ScoringRun) ended, as the `result` label says it. */
export type RunResult = "succeeded" | "failed";

/** Which run kind the series describe, and how its outcomes are counted. */
export interface RunOutcomeSeries {
  /** The kind, as it appears in the names: `churn_<kind lowercased>_completions_total`. */
  kind: "TrainingRun" | "ScoringRun";
  /** The reasons a run can end with, per result; their series are created at zero. */
  terminalReasons: Record<RunResult, readonly Reason[]>;
  /** Duration histogram buckets, seconds. */
  buckets: number[];
}

/**
 * A run kind's outcomes: `churn_<kind>_completions_total{result,reason}` and
 * `churn_<kind>_duration_seconds{result}` (Job start to completion). Labels are bounded (two
 * results, the reason constants); no namespace or run name: the operator's series already carry
 * the scrape target's `namespace`, and which run failed is in its status and Events
 * (`kubectl get events -A --field-selector reason=<reason>`). The terminal reasons' series are
 * created at zero, so `increase()` sees a run's first failure of a kind instead of a series that
 * appears already at 1.
 */
export class RunOutcomeMetrics {
  private readonly completions: Counter<"result" | "reason">;
  private readonly duration: Histogram<"result">;

  constructor(registry: Registry, series: RunOutcomeSeries) {
    const m = metricFactory(registry);
    const name = `churn_${series.kind.toLowerCase()}`;
    this.completions = m.counter(
      `${name}_completions_total`,
      `${series.kind}s this operator process saw reach a terminal phase, by result and reason`,
      ["result", "reason"],
    );
    this.duration = m.histogram(
      `${name}_duration_seconds`,
      `Time from a ${series.kind}'s Job start to its completion, by result`,
      series.buckets,
      ["result"],
    );
    for (const [result, reasons] of Object.entries(series.terminalReasons)) {
      for (const reason of reasons) this.completions.inc({ result, reason }, 0);
    }
  }

  /**
   * Counts one run reaching a terminal phase. The caller calls it once per run, on the status
   * write that made the run terminal; the duration is observed when it is known.
   */
  completed(result: RunResult, reason: Reason, durationSeconds: number | undefined) {
    this.completions.inc({ result, reason });
    if (durationSeconds !== undefined) this.duration.observe({ result }, durationSeconds);
  }
}

/** Seconds from `start` to `end` (RFC 3339 times), or undefined unless both parse and end >= start. */
export function secondsBetween(start?: string, end?: string): number | undefined {
  const from = start ? Date.parse(start) : Number.NaN;
  const to = end ? Date.parse(end) : Number.NaN;
  return Number.isFinite(from) && Number.isFinite(to) && to >= from
    ? (to - from) / 1000
    : undefined;
}
