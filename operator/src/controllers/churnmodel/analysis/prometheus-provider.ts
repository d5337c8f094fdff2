import {
  ANALYSIS_METRICS,
  escapeRegex,
  isServerError,
  SCORING_ROUTE_REGEX,
} from "./analysis-metric-names.js";
import { describeFetchError } from "./fetch-error.js";
import { histogramWindowOf } from "./histogram-window.js";
import type {
  CustomValue,
  Measurements,
  MeasureRequest,
  MetricProvider,
  MirrorWindow,
  VariantWindow,
} from "./measurements.js";
import { parsePrometheusFloat } from "./prometheus-text.js";

// The provider for clusters that already run Prometheus: instant queries at `now` over the
// window [now - interval, now], pods selected by the labels Prometheus's kubernetes_sd
// relabelling puts on pod targets (`namespace`, `pod`). It reads the same series as the
// builtin provider, with increase() doing what the builtin provider's deltas do:
//
//   sum by (code) (increase(http_requests_total{namespace="NS", pod=~"POD", route=~"(/v1/|/v2/).*"}[Ns]))
//   sum by (le) (increase(http_request_duration_seconds_bucket{namespace="NS", pod=~"POD", route=~"(/v1/|/v2/).*"}[Ns]))
//   sum by (le) (increase(churn_prediction_probability_bucket{namespace="NS", pod=~"POD"}[Ns]))
//   sum(increase(churn_router_mirror_comparisons_total{namespace="NS", pod=~"MODEL-router-.*"}[Ns]))
//   sum(increase(churn_router_mirror_decision_flips_total{namespace="NS", pod=~"MODEL-router-.*"}[Ns]))
//
// requests are the sum over codes, errors the sum over 5xx codes. increase() extrapolates to
// the window's edges (by up to about one scrape interval at each end), so its numbers are
// fractional estimates of the builtin provider's exact counts; the judge reads both alike.
// Custom queries are evaluated at `now` with their placeholders filled for the canary.

/** Settings of a prometheus provider. */
export interface PrometheusProviderOptions {
  /** Timeout of each HTTP call to Prometheus. Default 5000 ms. */
  timeoutMs?: number;
}

/** Prometheus said no (`status: "error"`): a bad query, a timeout, an execution error. */
class PrometheusApiError extends Error {}

type QueryData =
  | { resultType: "vector"; result: { metric: Record<string, string>; value: [number, string] }[] }
  | { resultType: "scalar"; result: [number, string] }
  | { resultType: "matrix" | "string"; result: unknown };

const DEFAULT_TIMEOUT_MS = 5000;

/** Measures a rollout from a Prometheus HTTP API (`/api/v1/query`), one per address. */
export class PrometheusProvider implements MetricProvider {
  readonly kind = "prometheus" as const;
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(
    readonly address: string,
    options: PrometheusProviderOptions = {},
  ) {
    this.base = address.replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Whether Prometheus answers its readiness endpoint (`/-/ready`). */
  async isOnline(): Promise<boolean> {
    try {
      const res = await fetch(`${this.base}/-/ready`, {
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }

  /** Nothing to forget: every window is queried afresh. */
  forget(): void {}

  /**
   * The window [now - interval, now] for both variants, the router's mirror comparison and the
   * custom metrics (evaluated for the canary). Undefined when Prometheus has no series for
   * either variant; throws when Prometheus is unreachable or rejects a built-in query.
   */
  async measure(req: MeasureRequest): Promise<Measurements | undefined> {
    const range = promqlDuration(req.intervalSeconds);
    const pods = (pattern: string) =>
      `namespace=${promqlString(req.namespace)}, pod=~${promqlString(pattern)}`;
    const variant = (pattern: string) => this.variantWindow(pods(pattern), range, req.now);
    const routers = pods(`${escapeRegex(req.model)}-router-.*`);
    const [stable, canary, mirror, custom] = await Promise.all([
      variant(req.podPattern.stable),
      variant(req.podPattern.canary),
      this.mirrorWindow(routers, range, req.now),
      Promise.all(req.custom.map((c) => this.customValue(c, req))),
    ]);
    if (!stable && !canary) return undefined;
    return {
      start: new Date(req.now.getTime() - req.intervalSeconds * 1000),
      end: req.now,
      stable,
      canary,
      mirror,
      custom,
    };
  }

  private async variantWindow(
    pods: string,
    range: string,
    at: Date,
  ): Promise<VariantWindow | undefined> {
    const scoring = `${pods}, route=~${promqlString(SCORING_ROUTE_REGEX)}`;
    const [byCode, latency, probability] = await Promise.all([
      this.vector(
        `sum by (code) (increase(${ANALYSIS_METRICS.requests}{${scoring}}[${range}]))`,
        at,
      ),
      this.vector(
        `sum by (le) (increase(${ANALYSIS_METRICS.requestDuration}_bucket{${scoring}}[${range}]))`,
        at,
      ),
      this.vector(
        `sum by (le) (increase(${ANALYSIS_METRICS.probability}_bucket{${pods}}[${range}]))`,
        at,
      ),
    ]);
    if (byCode.length === 0 && latency.length === 0 && probability.length === 0) return undefined;
    let requests = 0;
    let errors = 0;
    for (const s of byCode) {
      requests += s.value;
      if (isServerError(s.labels.code)) errors += s.value;
    }
    const buckets = (series: typeof latency) =>
      histogramWindowOf(series.map((s) => ({ le: s.labels.le ?? "", count: s.value })));
    return { requests, errors, latency: buckets(latency), probability: buckets(probability) };
  }

  private async mirrorWindow(
    routers: string,
    range: string,
    at: Date,
  ): Promise<MirrorWindow | undefined> {
    const total = async (metric: string) => {
      const v = await this.vector(`sum(increase(${metric}{${routers}}[${range}]))`, at);
      return v[0]?.value ?? 0;
    };
    const [compared, decisionFlips] = await Promise.all([
      total(ANALYSIS_METRICS.mirrorComparisons),
      total(ANALYSIS_METRICS.mirrorDecisionFlips),
    ]);
    return compared > 0 ? { compared, decisionFlips } : undefined;
  }

  /** One custom metric: placeholders filled, one number out, Prometheus's refusal as `error`. */
  private async customValue(
    metric: { name: string; query: string },
    req: MeasureRequest,
  ): Promise<CustomValue> {
    let query: string;
    try {
      query = fillPlaceholders(metric.query, {
        namespace: req.namespace,
        model: req.model,
        variant: "canary",
        pod: req.podPattern.canary,
        interval: promqlDuration(req.intervalSeconds),
      });
    } catch (err) {
      return { name: metric.name, error: (err as Error).message };
    }
    let data: QueryData;
    try {
      data = await this.query(query, req.now);
    } catch (err) {
      if (err instanceof PrometheusApiError) return { name: metric.name, error: err.message };
      throw err;
    }
    const value = singleValue(data);
    if (typeof value === "string") return { name: metric.name, error: value };
    return { name: metric.name, value };
  }

  /** A query whose answer must be an instant vector, as samples with labels. */
  private async vector(
    query: string,
    at: Date,
  ): Promise<{ labels: Record<string, string>; value: number }[]> {
    const data = await this.query(query, at);
    if (data.resultType !== "vector") {
      throw new Error(`prometheus answered ${data.resultType} to ${query}, expected a vector`);
    }
    return data.result.map((r) => ({ labels: r.metric, value: parsePrometheusFloat(r.value[1]) }));
  }

  private async query(query: string, at: Date): Promise<QueryData> {
    const url = `${this.base}/api/v1/query`;
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method: "POST",
        body: new URLSearchParams({ query, time: String(at.getTime() / 1000) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw new Error(`prometheus at ${this.base} is unreachable: ${describeFetchError(err)}`);
    }
    let body: { status?: string; data?: QueryData; errorType?: string; error?: string };
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(
        `prometheus at ${this.base} answered HTTP ${res.status} without JSON: ${text.slice(0, 200)}`,
      );
    }
    if (body.status !== "success" || !body.data) {
      throw new PrometheusApiError(
        `prometheus rejected ${query} (HTTP ${res.status}): ${body.errorType ?? "error"}: ${body.error ?? text.slice(0, 200)}`,
      );
    }
    return body.data;
  }
}

/** A number from a custom query's answer, or why there is none. */
function singleValue(data: QueryData): number | string {
  let raw: string;
  if (data.resultType === "scalar") {
    raw = data.result[1];
  } else if (data.resultType === "vector") {
    if (data.result.length !== 1) {
      return data.result.length === 0
        ? "the query returned no data"
        : `the query returned ${data.result.length} series, expected one (aggregate it, e.g. sum(...))`;
    }
    raw = data.result[0]?.value[1] ?? "NaN";
  } else {
    return `the query returned a ${data.resultType}, expected a scalar or one series`;
  }
  const value = parsePrometheusFloat(raw);
  return Number.isNaN(value) ? "the query returned NaN (no data in the window?)" : value;
}

/**
 * Fills `{{name}}` placeholders. Values are escaped for a double-quoted PromQL string (where
 * they go: `namespace="{{namespace}}"`, `pod=~"{{pod}}"`); `interval` is a duration (`10s`).
 */
export function fillPlaceholders(query: string, values: Record<string, string>): string {
  return query.replace(/\{\{\s*([a-zA-Z]+)\s*\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) {
      throw new Error(
        `unknown placeholder {{${name}}} (known: ${Object.keys(values)
          .map((k) => `{{${k}}}`)
          .join(", ")})`,
      );
    }
    return name === "interval" ? value : promqlString(value).slice(1, -1);
  });
}

/** A double-quoted PromQL string literal. */
function promqlString(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

/** A PromQL duration for a number of seconds (`10s`; `2500ms` for fractions). */
function promqlDuration(seconds: number): string {
  if (!(seconds > 0)) throw new Error(`analysis interval must be positive, got ${seconds}`);
  return Number.isInteger(seconds) ? `${seconds}s` : `${Math.round(seconds * 1000)}ms`;
}
