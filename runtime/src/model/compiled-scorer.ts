// The compiled scoring engine: model.onnx's computation done in TypeScript in this process,
// built at load from the graph's tree ensemble and model.json's encoders and calibration:
// raw rows -> float32 encoded vectors -> flat tree walk -> logistic -> (isotonic map).
// It only serves once the engine check has shown it reproduces onnxruntime (engine-choice.ts).
import { z } from "zod";
import { type ModelCard, rawFeatureSpecs } from "../artifact/model-card.js";
import type { TreeEnsemble } from "../explain/onnx-trees.js";
import { CompiledTrees, type CompiledTreesOptions } from "./compiled-trees.js";
import type { ScoreOutput } from "./onnx-scorer.js";
import { RowEncoder } from "./row-encoder.js";
import { UnknownCategories } from "./unknown-categories.js";

/** Raised when the model uses something the compiled engine does not implement. */
export class CompiledScorerError extends Error {
  override readonly name = "CompiledScorerError";
}

const calibrationSchema = z
  .looseObject({
    method: z.string(),
    knots: z.array(z.number()).optional(),
    values: z.array(z.number()).optional(),
  })
  .optional();

/** The graph's isotonic step in float32: y0 + sum_i slope_i * (clip(p, lo_i, hi_i) - lo_i), in [0, 1]. */
export class IsotonicMap {
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  private readonly slope: Float64Array;
  private readonly y0: number;

  constructor(knots: number[], values: number[]) {
    if (knots.length < 2 || knots.length !== values.length) {
      throw new CompiledScorerError("isotonic calibration needs matching knots and values");
    }
    const n = knots.length - 1;
    this.lo = new Float64Array(n);
    this.hi = new Float64Array(n);
    this.slope = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const x0 = knots[i] as number;
      const x1 = knots[i + 1] as number;
      this.lo[i] = Math.fround(x0);
      this.hi[i] = Math.fround(x1);
      this.slope[i] = Math.fround(((values[i + 1] as number) - (values[i] as number)) / (x1 - x0));
    }
    this.y0 = Math.fround(values[0] as number);
  }

  apply(p: number): number {
    const f = Math.fround;
    let rise = 0;
    for (let i = 0; i < this.lo.length; i++) {
      const lo = this.lo[i] as number;
      const clipped = Math.min(Math.max(p, lo), this.hi[i] as number);
      rise = f(rise + f(f(clipped - lo) * (this.slope[i] as number)));
    }
    // The graph ends with Clip(0, 1): float32 rounding of the sum can pass 1 by one step.
    return Math.min(1, Math.max(0, f(rise + this.y0)));
  }
}

/** onnxruntime's logistic for the TreeEnsemble's LOGISTIC post transform, in float32. */
function logistic(margin: number): number {
  const f = Math.fround;
  const v = f(1 / f(1 + f(Math.exp(-Math.abs(margin)))));
  return margin < 0 ? f(1 - v) : v;
}

/** Scores raw rows without onnxruntime; see the file comment. */
export class CompiledScorer {
  readonly encodedWidth: number;
  private readonly encoder: RowEncoder;
  private readonly trees: CompiledTrees;
  private readonly isotonic: IsotonicMap | undefined;
  private readonly unknown: UnknownCategories;
  // Reused between calls: scoring is synchronous, so one call never sees another's buffers.
  private features = new Float32Array(0);
  private margins = new Float64Array(0);

  /**
   * Compiles the engine; throws (naming what is unsupported) when it cannot. `options` pick
   * the tree evaluation (tests reach each one).
   */
  constructor(card: ModelCard, ensemble: TreeEnsemble, options: CompiledTreesOptions = {}) {
    if (ensemble.opType !== "TreeEnsembleClassifier" || ensemble.postTransform !== "LOGISTIC") {
      throw new CompiledScorerError(
        `only a TreeEnsembleClassifier with a LOGISTIC post transform is compiled (found ${ensemble.opType}, ${ensemble.postTransform})`,
      );
    }
    this.encoder = RowEncoder.fromCard(card);
    this.encodedWidth = this.encoder.width;
    this.trees = new CompiledTrees(ensemble, options);
    const calibration = calibrationSchema.safeParse(card.calibration);
    if (!calibration.success) throw new CompiledScorerError("model.json calibration is malformed");
    const method = calibration.data?.method ?? "none";
    if (method === "isotonic") {
      this.isotonic = new IsotonicMap(
        calibration.data?.knots ?? [],
        calibration.data?.values ?? [],
      );
    } else if (method !== "none" && method !== "sigmoid") {
      // sigmoid is folded into the leaves by the trainer; anything else is new to this engine.
      throw new CompiledScorerError(`calibration ${method} is not compiled`);
    }
    this.unknown = new UnknownCategories(rawFeatureSpecs(card));
  }

  /** How the trees run: generated code or the array walk. */
  get treeMode(): "generated" | "arrays" {
    return this.trees.mode;
  }

  /** Scores validated rows synchronously; `withFeatures` also returns the encoded vectors. */
  scoreNow(rows: readonly Record<string, unknown>[], withFeatures = false): ScoreOutput {
    const n = rows.length;
    const w = this.encodedWidth;
    if (this.features.length < n * w) this.features = new Float32Array(n * w);
    if (this.margins.length < n) this.margins = new Float64Array(n);
    const x = this.features;
    this.encoder.encode(rows, x);
    this.trees.margins(x, n, w, this.margins);
    const probabilities = new Float32Array(n);
    const iso = this.isotonic;
    for (let i = 0; i < n; i++) {
      const p = logistic(this.margins[i] as number);
      probabilities[i] = iso ? iso.apply(p) : p;
    }
    const out: ScoreOutput = { probabilities, unknownCategories: this.unknown.find(rows) };
    if (withFeatures) out.features = x.slice(0, n * w);
    return out;
  }

  /** The RowScorer form of scoreNow. */
  score(rows: readonly Record<string, unknown>[], withFeatures = false): Promise<ScoreOutput> {
    try {
      return Promise.resolve(this.scoreNow(rows, withFeatures));
    } catch (err) {
      return Promise.reject(err);
    }
  }
}
