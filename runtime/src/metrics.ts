// The runtime's Prometheus metrics. Label sets are bounded: routes are templates, features are
// the schema's columns, codes are HTTP statuses.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { BulkHistogram } from "./bulk-histogram.js";
import type { DriftMonitor } from "./drift/drift-monitor.js";

/** Identity of the served model, exported as `churn_model_info` labels. */
export interface ModelInfo {
  name: string;
  version: string;
  format_version: string;
  created_at: string;
  xgboost: string;
}

/** All metrics of one runtime instance, in their own registry. */
export class RuntimeMetrics {
  readonly registry = new Registry();
  readonly requestDuration: Histogram<"method" | "route" | "code">;
  readonly requests: Counter<"method" | "route" | "code">;
  readonly scoredRows: Counter<"endpoint">;
  readonly explainedRows: Counter;
  readonly unknownCategories: Counter<"feature">;
  readonly probability: BulkHistogram;
  readonly positives: Counter;
  private readonly modelInfo: Gauge<keyof ModelInfo>;
  private readonly scoringEngine: Gauge<"engine">;
  private readonly ready: Gauge;
  private drift: DriftMonitor | undefined;

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    // Exactly this name and these labels: canary analysis tooling queries them.
    this.requestDuration = new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request latency by route template and status code",
      labelNames: ["method", "route", "code"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.requests = new Counter({
      name: "http_requests_total",
      help: "HTTP requests by route template and status code",
      labelNames: ["method", "route", "code"],
      registers,
    });
    this.scoredRows = new Counter({
      name: "churn_scored_rows_total",
      help: "Rows scored, by endpoint",
      labelNames: ["endpoint"],
      registers,
    });
    this.explainedRows = new Counter({
      name: "churn_explained_rows_total",
      help: "Rows explained with TreeSHAP",
      registers,
    });
    this.unknownCategories = new Counter({
      name: "churn_unknown_category_total",
      help: "Scored values outside the schema's categories, by feature",
      labelNames: ["feature"],
      registers,
    });
    this.probability = new BulkHistogram(
      "churn_prediction_probability",
      "Predicted churn probabilities",
      Array.from({ length: 19 }, (_, i) => Number(((i + 1) * 0.05).toFixed(2))),
      registers,
    );
    this.positives = new Counter({
      name: "churn_predicted_positive_total",
      help: "Rows predicted positive (probability >= threshold)",
      registers,
    });
    this.scoringEngine = new Gauge({
      name: "churn_runtime_scoring_engine",
      help: "1 for the engine scoring requests (compiled, or onnxruntime as the reference or fallback)",
      labelNames: ["engine"],
      registers,
    });
    const self = this;
    new Gauge({
      name: "churn_predicted_positive_rate",
      help: "Share of rows predicted positive over the drift window",
      registers,
      collect() {
        const rate = self.drift?.snapshot().positiveRate;
        if (rate !== null && rate !== undefined) this.set(rate);
      },
    });
    new Gauge({
      name: "churn_feature_drift_psi",
      help: "Population stability index of each raw feature over the drift window vs baseline.json",
      labelNames: ["feature"],
      registers,
      collect() {
        this.reset();
        const snap = self.drift?.snapshot();
        if (!snap) return;
        for (const [feature, psi] of Object.entries(snap.features)) {
          if (psi !== null) this.set({ feature }, psi);
        }
      },
    });
    new Gauge({
      name: "churn_score_drift_psi",
      help: "Population stability index of predicted probabilities over the drift window vs baseline.json",
      registers,
      collect() {
        const psi = self.drift?.snapshot().score;
        if (psi !== null && psi !== undefined) this.set(psi);
      },
    });
    new Gauge({
      name: "churn_drift_window_rows",
      help: "Rows currently in the drift window",
      registers,
      collect() {
        this.set(self.drift?.snapshot().windowRows ?? 0);
      },
    });
    this.modelInfo = new Gauge({
      name: "churn_model_info",
      help: "The served model; value 1, identity in labels",
      labelNames: ["name", "version", "format_version", "created_at", "xgboost"],
      registers,
    });
    this.ready = new Gauge({
      name: "churn_model_ready",
      help: "1 when the model passed its load-time self-check",
      registers,
    });
    this.ready.set(0);
  }

  /** Publishes the served model's identity and readiness. */
  setModel(info: ModelInfo | undefined, ready: boolean): void {
    this.modelInfo.reset();
    if (info) this.modelInfo.set(info, 1);
    this.ready.set(ready ? 1 : 0);
  }

  /** Marks which of `engines` scores requests: 1 for it, 0 for the others. */
  setScoringEngine(active: string, engines: readonly string[]): void {
    for (const engine of engines) this.scoringEngine.set({ engine }, engine === active ? 1 : 0);
  }

  /** Attaches the drift monitor whose window the drift gauges report. */
  setDrift(drift: DriftMonitor | undefined): void {
    this.drift = drift;
  }
}
