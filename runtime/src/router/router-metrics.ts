// The router's Prometheus metrics. Deliberately no http_requests_total or
// http_request_duration_seconds: canary analysis reads those from the serving pods, and a router
// exporting them too would be counted twice. Labels are bounded: variant is stable, canary or
// none (answered by the router itself), code an HTTP status.
import type { Counter, Gauge, Histogram, Registry } from "prom-client";
import { programMetrics } from "../../../common/metric-factory.js";

/** Who answered a routed request. */
export type AnsweredBy = "stable" | "canary" | "none";

/** All metrics of one router, in their own registry. */
export class RouterMetrics {
  readonly registry: Registry;
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
    const m = programMetrics(options);
    this.registry = m.registry;
    this.requests = m.counter(
      "churn_router_requests_total",
      "Routed requests by the variant that answered (none: the router itself) and status code",
      ["variant", "code"],
    );
    this.requestDuration = m.histogram(
      "churn_router_request_duration_seconds",
      "Time from a routed request's arrival to its upstream's response headers, by variant",
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      ["variant"],
    );
    this.inFlight = m.gauge(
      "churn_router_requests_in_flight",
      "Routed requests waiting for their upstream's answer",
    );
    this.canaryWeight = m.gauge(
      "churn_router_canary_weight",
      "Percent of requests the canary answers under the current traffic config (0 without a canary)",
    );
    this.mirrorPercent = m.gauge(
      "churn_router_mirror_percent",
      "Percent of stable-answered score requests copied to the canary",
    );
    this.configReloads = m.counter(
      "churn_router_config_reloads_total",
      "Traffic configurations read, by result (applied, rejected: invalid and the last good one kept)",
      ["result"],
    );
    this.fallbacks = m.counter(
      "churn_router_fallbacks_total",
      "Requests sent to the canary that could not connect and were answered by the stable",
    );
    this.upstreamRetries = m.counter(
      "churn_router_upstream_retries_total",
      "Requests sent again on a new connection because the kept-alive one was closed by the server as it was reused, or to another pod of the variant because one never received it",
    );
    // Canary analysis sums the comparisons and decision flips below across router pods: keep
    // their names and their empty label sets.
    this.mirrorAbsDiff = m.histogram(
      "churn_router_mirror_abs_diff",
      "Per mirrored row: |canary probability - stable probability|",
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1],
    );
    this.mirrorComparisons = m.counter(
      "churn_router_mirror_comparisons_total",
      "Rows scored by both variants through mirroring and compared",
    );
    this.mirrorDecisionFlips = m.counter(
      "churn_router_mirror_decision_flips_total",
      "Compared rows whose decision (label) differs between canary and stable",
    );
    this.mirrorErrors = m.counter(
      "churn_router_mirror_errors_total",
      "Mirrored copies that failed (no connection, a non-2xx answer, or an answer that does not match the stable's rows)",
    );
    this.mirrorsDropped = m.counter(
      "churn_router_mirror_dropped_total",
      "Requests not mirrored because too many copies were already in flight",
    );
  }
}
