// The router's current traffic configuration: what its source last reported, validated. An
// invalid configuration never replaces a good one; the router keeps routing by the last good
// one and says so (a log line and churn_router_config_reloads_total{result="rejected"}).
// Readiness: a first valid configuration and the stable model's id column (without it the
// first requests could not be assigned by customer).
import type { Logger } from "../logger.js";
import type { IdColumnLearner } from "./id-column-learner.js";
import type { RouterMetrics } from "./router-metrics.js";
import { parseTrafficConfig, type TrafficConfig, TrafficConfigError } from "./traffic-config.js";
import type { TrafficListener } from "./traffic-source.js";

/** Holds the configuration requests are routed by. */
export class TrafficState implements TrafficListener {
  /** The configuration in force; undefined until the first valid one. */
  config: TrafficConfig | undefined;
  /** Set on shutdown: /readyz fails so endpoints stop sending here. */
  draining = false;
  /** Why the configuration in force is not what the source holds (empty when it is). */
  problem = "";
  private lastText: string | undefined;

  constructor(
    private readonly metrics: RouterMetrics,
    private readonly logger: Logger,
    readonly idColumns: IdColumnLearner,
  ) {}

  /** Whether the router can route: a valid configuration, the id column known, not draining. */
  get ready(): boolean {
    return this.config !== undefined && this.idColumns.idColumn !== undefined && !this.draining;
  }

  /** Why the router is not ready (empty when it is). */
  get notReadyReason(): string {
    if (this.draining) return "shutting down";
    if (!this.config) {
      return `no valid traffic configuration yet${this.problem ? `: ${this.problem}` : ""}`;
    }
    if (this.idColumns.idColumn === undefined) {
      return `reading the id column from the stable model at ${this.config.stable.url}`;
    }
    return "";
  }

  text(text: string, origin: string): void {
    if (text === this.lastText) return;
    this.lastText = text;
    let config: TrafficConfig;
    try {
      config = parseTrafficConfig(text);
    } catch (err) {
      if (!(err instanceof TrafficConfigError)) throw err;
      this.reject(err.message, origin);
      return;
    }
    const previous = this.config;
    this.config = config;
    this.problem = "";
    this.metrics.configReloads.inc({ result: "applied" });
    this.metrics.canaryWeight.set(config.canary?.weight ?? 0);
    this.metrics.mirrorPercent.set(config.canary?.mirrorPercent ?? 0);
    this.idColumns.follow(config.stable.url);
    this.logger.info("traffic config applied", {
      source: origin,
      ...summary(config),
      ...(previous ? { previous: summary(previous) } : {}),
    });
  }

  missing(reason: string): void {
    this.lastText = undefined;
    this.reject(reason, undefined);
  }

  private reject(reason: string, origin: string | undefined): void {
    this.problem = reason;
    this.metrics.configReloads.inc({ result: "rejected" });
    const fields = { ...(origin ? { source: origin } : {}), error: reason };
    if (this.config) {
      this.logger.warn("traffic config rejected; keeping the last good one", {
        ...fields,
        keeping: summary(this.config),
      });
    } else {
      this.logger.warn("traffic config rejected; not ready until a valid one arrives", fields);
    }
  }
}

/** A configuration as logs show it. */
function summary(c: TrafficConfig): Record<string, unknown> {
  return {
    model: c.model,
    stable: c.stable.digest,
    canary: c.canary?.digest ?? null,
    weight: c.canary?.weight ?? 0,
    mirrorPercent: c.canary?.mirrorPercent ?? 0,
    stickyHeader: c.stickyHeader,
  };
}
