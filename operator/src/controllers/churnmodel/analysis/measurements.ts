// What an analysis provider measures for one window of a rollout, and the small interface
// every provider implements (Flagger's shape: isOnline, then the queries). Providers only
// measure; judging (statistics, thresholds, verdicts) happens in judge.ts, the same for all.

/** A Prometheus histogram over one window: cumulative counts per upper bound, +Inf last. */
export interface HistogramWindow {
  /** Upper bounds ("le") in ascending order; the last is Infinity. */
  bounds: number[];
  /** Cumulative observation counts per bound (same length as bounds). */
  cumulative: number[];
}

/** One variant's traffic over the window (deltas of counters, never lifetime totals). */
export interface VariantWindow {
  /** Scoring requests answered (routes under /v1/ and /v2/; not probes or /metrics). */
  requests: number;
  /** Of those, answered with a 5xx status. */
  errors: number;
  /** http_request_duration_seconds of scoring routes over the window, in seconds. */
  latency?: HistogramWindow;
  /** churn_prediction_probability over the window (one observation per scored row). */
  probability?: HistogramWindow;
}

/** Mirrored requests compared by the router over the window. */
export interface MirrorWindow {
  /** Requests scored by both variants and compared. */
  compared: number;
  /** Of those, how many got a different decision (churn or not) from the canary. */
  decisionFlips: number;
}

/** The result of one custom PromQL metric. */
export interface CustomValue {
  name: string;
  value?: number;
  /** Why there is no value (query error, empty result). */
  error?: string;
}

/** Everything one analysis reads, for the window [start, end]. */
export interface Measurements {
  start: Date;
  end: Date;
  /** Undefined when the variant had no pods to measure (or nothing was scraped yet). */
  stable?: VariantWindow;
  canary?: VariantWindow;
  /** Undefined when nothing was mirrored (no router, or no mirror step). */
  mirror?: MirrorWindow;
  custom: CustomValue[];
}

/** What a provider is asked to measure: which pods are which variant. */
export interface MeasureRequest {
  namespace: string;
  /** The ChurnModel's name. */
  model: string;
  /** Serving pods per variant (name and IP), from the operator's cache. */
  pods: { stable: PodRef[]; canary: PodRef[] };
  /** Router pods (router traffic mode), whose metrics carry the mirror comparison. */
  routerPods: PodRef[];
  /** Regex matching the pod names of each variant (for PromQL `pod=~`). */
  podPattern: { stable: string; canary: string };
  /** Custom PromQL metrics, placeholders not yet filled. */
  custom: { name: string; query: string }[];
  /** The analysis interval, for PromQL range vectors. */
  intervalSeconds: number;
  now: Date;
}

/** A pod to scrape: its name, IP and metrics port. */
export interface PodRef {
  name: string;
  ip: string;
  port: number;
}

/**
 * A source of analysis numbers. `measure` returns the window since the previous call for the
 * same model (builtin: counter deltas between two scrapes; prometheus: increase() over the
 * interval), or undefined while there is no previous point yet. It throws when the source is
 * unreachable; the caller turns that into an Inconclusive verdict (hold, never promote).
 */
export interface MetricProvider {
  readonly kind: "builtin" | "prometheus";
  /** Whether the source answers at all (for status messages and the provider-down case). */
  isOnline(): Promise<boolean>;
  measure(req: MeasureRequest): Promise<Measurements | undefined>;
  /** Forgets a model's previous points (rollout ended, model deleted). */
  forget(namespace: string, model: string): void;
}
