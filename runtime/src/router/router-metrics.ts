// The router's Prometheus metrics. Deliberately no http_requests_total or
// http_request_duration_seconds: canary analysis reads those from the serving pods, and a router
// exporting them too would be counted twice. Labels are bounded: variant is stable, canary or
// none (answered by the router itself), code an HTTP status.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Who answered a routed request. */
export type AnsweredBy = "stable" | "canary" | "none";

/** All metrics of one router, in their own registry. */
export class RouterMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<"variant" | "code">;
  readonly requestDuration: Histogram<"variant">;
  readonly inFlight: Gauge;
  readonly canaryWeight: Gauge;
  readonly mirrorPercent: Gauge;
  readonly configReloads: Counter<"result">;
  readonly fallbacks: Counter;
  readonly upstreamRetries: Counter;
  readonly mirrorAbsDiff: Histogram;
  readonly mirrorComparisons: Counter;
  readonly mirrorDecisionFlips: Counter;
  readonly mirrorErrors: Counter;
  readonly mirrorsDropped: Counter;

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: "churn_router_requests_total",
      help: "Routed requests by the variant that answered (none: the router itself) and status code",
      labelNames: ["variant", "code"],
      registers,
    });
    this.requestDuration = new Histogram({
      name: "churn_router_request_duration_seconds",
      help: "Time from a routed request's arrival to its upstream's response headers, by variant",
      labelNames: ["variant"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.inFlight = new Gauge({
      name: "churn_router_requests_in_flight",
      help: "Routed requests waiting for their upstream's answer",
      registers,
    });
    this.canaryWeight = new Gauge({
      name: "churn_router_canary_weight",
      help: "Percent of requests the canary answers under the current traffic config (0 without a canary)",
      registers,
    });
    this.mirrorPercent = new Gauge({
      name: "churn_router_mirror_percent",
      help: "Percent of stable-answered score requests copied to the canary",
      registers,
    });
    this.configReloads = new Counter({
      name: "churn_router_config_reloads_total",
      help: "Traffic configurations read, by result (applied, rejected: invalid and the last good one kept)",
      labelNames: ["result"],
      registers,
    });
    this.fallbacks = new Counter({
      name: "churn_router_fallbacks_total",
      help: "Requests sent to the canary that could not connect and were answered by the stable",
      registers,
    });
    this.upstreamRetries = new Counter({
      name: "churn_router_upstream_retries_total",
      help: "Requests sent again on a new connection because the kept-alive one was closed by the server as it was reused",
      registers,
    });
    // Canary analysis sums the comparisons and decision flips below across router pods: keep
    // their names and their empty label sets.
    this.mirrorAbsDiff = new Histogram({
      name: "churn_router_mirror_abs_diff",
      help: "Per mirrored row: |canary probability - stable probability|",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1],
      registers,
    });
    this.mirrorComparisons = new Counter({
      name: "churn_router_mirror_comparisons_total",
      help: "Rows scored by both variants through mirroring and compared",
      registers,
    });
    this.mirrorDecisionFlips = new Counter({
      name: "churn_router_mirror_decision_flips_total",
      help: "Compared rows whose decision (label) differs between canary and stable",
      registers,
    });
    this.mirrorErrors = new Counter({
      name: "churn_router_mirror_errors_total",
      help: "Mirrored copies that failed (no connection, a non-2xx answer, or an answer that does not match the stable's rows)",
      registers,
    });
    this.mirrorsDropped = new Counter({
      name: "churn_router_mirror_dropped_total",
      help: "Requests not mirrored because too many copies were already in flight",
      registers,
    });
  }
}
