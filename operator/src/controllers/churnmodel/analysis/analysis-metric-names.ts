// The series analysis reads, in one place for both providers: the builtin one filters scraped
// samples with these rules, the prometheus one turns the same rules into label matchers.

/** Metric names the runtime (serving and router mode) exports and analysis reads. */
export const ANALYSIS_METRICS = {
  /** Counter by method, route (template) and code. */
  requests: "http_requests_total",
  /** Histogram by method, route and code; analysis reads its `_bucket` series. */
  requestDuration: "http_request_duration_seconds",
  /** Histogram of predicted churn probabilities, one observation per scored row. */
  probability: "churn_prediction_probability",
  /** Router counter: mirrored requests scored by both variants and compared. */
  mirrorComparisons: "churn_router_mirror_comparisons_total",
  /** Router counter: of those, requests whose decision differed. */
  mirrorDecisionFlips: "churn_router_mirror_decision_flips_total",
  /** Gauge from prom-client's process metrics: tells a restarted pod from a live one. */
  processStart: "process_start_time_seconds",
} as const;

/** Route templates that score (the `/v1` JSON API and the KServe `/v2` protocol). */
export const SCORING_ROUTE_PREFIXES = ["/v1/", "/v2/"] as const;

/** Whether a request's route label is a scoring route (not a probe, /metrics or docs). */
export function isScoringRoute(route: string | undefined): boolean {
  return route !== undefined && SCORING_ROUTE_PREFIXES.some((p) => route.startsWith(p));
}

/** Whether a request's code label is a server error (5xx), the errors analysis counts. */
export function isServerError(code: string | undefined): boolean {
  return code !== undefined && /^5\d\d$/.test(code);
}

/** PromQL regex matching exactly the routes `isScoringRoute` accepts (anchored by PromQL). */
export const SCORING_ROUTE_REGEX = `(${SCORING_ROUTE_PREFIXES.map(escapeRegex).join("|")}).*`;

/** Escapes a literal for use inside a (RE2) regular expression. */
export function escapeRegex(literal: string): string {
  return literal.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
}
