// The served model: the loaded artifact, its onnxruntime session, the SHAP worker pool, the
// drift monitor and the self-check verdict that gates readiness.
import type { Artifact } from "../artifact/artifact.js";
import { DriftMonitor } from "../drift/drift-monitor.js";
import { type Explanation, explainRows } from "../explain/attribution.js";
import { readTreeEnsemble } from "../explain/onnx-trees.js";
import { TreeExplainer } from "../explain/tree-shap.js";
import { PoolClosedError, ShapWorkerPool } from "../explain/worker-pool.js";
import type { Logger } from "../logger.js";
import type { RuntimeMetrics } from "../metrics.js";
import { notReady } from "../request-error.js";
import {
  chooseEngine,
  type EngineVerdict,
  SCORING_ENGINES,
  type ScoringEngineSetting,
} from "./engine-choice.js";
import { OnnxScorer } from "./onnx-scorer.js";
import { type RowScorer, ScoreBatcher } from "./score-batcher.js";
import { runSelfCheck, type SelfCheckResult } from "./self-check.js";

/**
 * Explain requests of at most this many rows run TreeSHAP on the event loop: a row takes tens
 * of microseconds, less than the round trip to a worker thread.
 */
const INLINE_EXPLAIN_ROWS = 2;

/** One scored row as the API returns it. */
export interface Prediction {
  id?: string | number;
  probability: number;
  label: boolean;
  threshold: number;
  modelVersion: string;
  unknownCategories?: string[];
  explanation?: Explanation;
}

/** Settings the model service needs. */
export interface ModelServiceOptions {
  explainWorkers: number;
  intraOpThreads: number;
  driftWindow: number;
  topDrivers: number;
  decisionThreshold?: number | undefined;
  /** `auto` (default): the compiled engine when it reproduces onnxruntime at load. */
  scoringEngine?: ScoringEngineSetting | undefined;
}

type Loaded = {
  artifact: Artifact;
  /** onnxruntime: the reference engine, kept open even when another engine serves. */
  onnx: OnnxScorer;
  /** What scores requests: the compiled engine, or onnxruntime behind the batcher. */
  scorer: RowScorer;
  explainer: TreeExplainer;
  pool: ShapWorkerPool;
  drift: DriftMonitor | undefined;
};

/** Holds the model and answers score/explain calls once the self-check has passed. */
export class ModelService {
  status: "loading" | "ready" | "failed" = "loading";
  reason = "loading the model artifact";
  selfCheck: (SelfCheckResult & { scoringEngine?: EngineVerdict }) | undefined;
  /** Which engine scores requests and why (also in /readyz's selfCheck and a metric). */
  engine: EngineVerdict | undefined;
  artifact: Artifact | undefined;
  /** Set on shutdown: /readyz fails so traffic moves away, in-flight requests still complete. */
  draining = false;
  private loaded: Loaded | undefined;

  constructor(
    private readonly options: ModelServiceOptions,
    private readonly metrics: RuntimeMetrics,
    private readonly logger: Logger,
  ) {}

  /** Marks the model as failed (e.g. the artifact could not be read). */
  fail(reason: string): void {
    this.status = "failed";
    this.reason = reason;
    this.metrics.setModel(undefined, false);
    this.logger.error("model not ready", { reason });
  }

  /** Opens the artifact's graph, starts the SHAP workers and runs the self-check. */
  async start(artifact: Artifact): Promise<void> {
    this.artifact = artifact;
    const card = artifact.card;
    const libraries = (card.libraries ?? {}) as Record<string, unknown>;
    const info = {
      name: card.name,
      version: artifact.digest,
      format_version: String(card.formatVersion),
      created_at: String(card.createdAt ?? ""),
      xgboost: String(libraries.xgboost ?? ""),
    };
    this.metrics.setModel(info, false);
    let pool: ShapWorkerPool | undefined;
    let scorer: OnnxScorer | undefined;
    try {
      const ensemble = readTreeEnsemble(artifact.modelBytes);
      // Built here first, a bad ensemble fails with its reason, not in a worker; it then
      // explains the smallest requests on the event loop.
      const explainer = new TreeExplainer(ensemble, card.features.encoded.length);
      scorer = await OnnxScorer.create(artifact.modelBytes, card, {
        intraOpThreads: this.options.intraOpThreads,
      });
      pool = new ShapWorkerPool(
        ensemble,
        card.features.encoded.length,
        this.options.explainWorkers,
      );
      const drift = artifact.baseline
        ? new DriftMonitor(artifact.baseline, this.options.driftWindow)
        : undefined;
      if (!drift) this.logger.warn("baseline.json missing: drift metrics disabled");
      this.metrics.setDrift(drift);
      const p = pool;
      const selfCheck = await runSelfCheck(card, artifact.reference, scorer, (x, n) =>
        p.explain(x, n),
      );
      const choice = await chooseEngine(
        this.options.scoringEngine ?? "auto",
        card,
        ensemble,
        scorer,
        artifact.reference,
      );
      this.engine = choice.verdict;
      this.selfCheck = { ...selfCheck, scoringEngine: choice.verdict };
      this.metrics.setScoringEngine(choice.verdict.engine, SCORING_ENGINES);
      this.logger.info("scoring engine chosen", { ...choice.verdict });
      this.loaded = {
        artifact,
        onnx: scorer,
        scorer: choice.compiled ?? new ScoreBatcher(scorer),
        explainer,
        pool,
        drift,
      };
    } catch (err) {
      await pool?.close();
      await scorer?.close();
      this.fail(`cannot load the model: ${(err as Error).message}`);
      return;
    }
    if (this.selfCheck.passed) {
      this.status = "ready";
      this.reason = "";
      this.metrics.setModel(info, true);
      this.logger.info("model ready", { digest: artifact.digest, selfCheck: this.selfCheck });
    } else {
      this.status = "failed";
      this.reason = `self-check failed: ${this.selfCheck.reason}`;
      this.logger.error("model not ready", { reason: this.reason, selfCheck: this.selfCheck });
    }
  }

  private require(): Loaded {
    if (this.status !== "ready" || !this.loaded) throw notReady(this.reason);
    return this.loaded;
  }

  /** Scores validated rows (and explains them when asked); updates the scoring metrics. */
  async predict(
    rows: Record<string, unknown>[],
    explain: boolean,
    endpoint: string,
  ): Promise<Prediction[]> {
    const loaded = this.require();
    const { artifact, scorer, drift } = loaded;
    const card = artifact.card;
    const threshold = this.options.decisionThreshold ?? card.threshold.value;
    const out = await scorer.score(rows, explain);
    let explanations: Explanation[] | undefined;
    if (explain) {
      const phi = await this.contributions(loaded, out.features as Float32Array, rows.length);
      explanations = explainRows(card, rows, phi, this.options.topDrivers);
    }
    const idColumn = card.schema.idColumn ?? undefined;
    const n = rows.length;
    const predictions: Prediction[] = new Array(n);
    const labels = new Uint8Array(n);
    let positives = 0;
    for (let i = 0; i < n; i++) {
      const row = rows[i] as Record<string, unknown>;
      const probability = out.probabilities[i] as number;
      const p = this.prediction(row, probability, threshold, idColumn, out.unknownCategories[i]);
      if (explanations) p.explanation = explanations[i] as Explanation;
      predictions[i] = p;
      if (p.label) {
        positives++;
        labels[i] = 1;
      }
    }
    // Once per batch: prom-client's per-value observe alone cost 4% of a 1000-row request.
    this.metrics.probability.observeAll(out.probabilities);
    drift?.observeBatch(rows, out.probabilities, labels);
    this.metrics.scoredRows.inc({ endpoint }, n);
    if (positives > 0) this.metrics.positives.inc(positives);
    if (explain) this.metrics.explainedRows.inc(n);
    return predictions;
  }

  /** One row's answer (without explanation); counts its unknown categories. */
  private prediction(
    row: Record<string, unknown>,
    probability: number,
    threshold: number,
    idColumn: string | undefined,
    unknown: string[] | undefined,
  ): Prediction {
    const modelVersion = this.artifact?.digest ?? "";
    const p: Prediction = { probability, label: probability >= threshold, threshold, modelVersion };
    const id = idColumn ? row[idColumn] : undefined;
    if (typeof id === "string" || typeof id === "number") p.id = id;
    if (unknown && unknown.length > 0) {
      p.unknownCategories = unknown;
      for (const feature of unknown) this.metrics.unknownCategories.inc({ feature });
    }
    return p;
  }

  /** SHAP values of encoded rows: on the event loop for the smallest batches, else in the pool. */
  private async contributions(
    loaded: Loaded,
    features: Float32Array,
    rows: number,
  ): Promise<Float64Array> {
    if (rows <= INLINE_EXPLAIN_ROWS) return loaded.explainer.explainBatch(features, rows);
    try {
      return await loaded.pool.explain(features, rows);
    } catch (err) {
      if (err instanceof PoolClosedError) throw notReady("shutting down");
      throw err;
    }
  }

  /** Stops the workers and releases the session. */
  async close(): Promise<void> {
    const loaded = this.loaded;
    this.loaded = undefined;
    if (this.status === "ready") this.status = "loading";
    this.reason = "shutting down";
    await loaded?.pool.close();
    await loaded?.onnx.close();
  }
}
