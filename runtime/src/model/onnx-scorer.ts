// Runs model.onnx with onnxruntime-node: validated raw rows in, probabilities (and the encoded
// feature vectors the trees see) out.
import * as ort from "onnxruntime-node";
import { type FeatureSpec, type ModelCard, rawFeatureSpecs } from "../artifact/model-card.js";
import { numericInput, stringInput } from "./row-encoder.js";
import { UnknownCategories } from "./unknown-categories.js";

/** The graph's outputs for one batch. */
export interface ScoreOutput {
  probabilities: Float32Array;
  /** Row-major encoded features (`features.encoded` order), when requested. */
  features?: Float32Array;
  /** Per row, the raw columns whose value is outside the schema's categories. */
  unknownCategories: string[][];
}

/** onnxruntime session options the server exposes. */
export interface ScorerOptions {
  intraOpThreads?: number;
}

/** Raised when model.onnx's inputs or outputs do not follow the artifact contract. */
export class ScorerError extends Error {
  override readonly name = "ScorerError";
}

type Encoder = {
  name: string;
  encode: (rows: readonly Record<string, unknown>[]) => ort.Tensor;
};

function encoderFor(spec: FeatureSpec): Encoder {
  const name = spec.name;
  if (spec.type === "categorical" || spec.type === "ordinal") {
    return {
      name,
      encode: (rows) => {
        const data = new Array<string>(rows.length);
        for (let i = 0; i < rows.length; i++) {
          data[i] = stringInput((rows[i] as Record<string, unknown>)[name]);
        }
        return new ort.Tensor("string", data, [rows.length, 1]);
      },
    };
  }
  return {
    name,
    encode: (rows) => {
      const data = new Float32Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        data[i] = numericInput((rows[i] as Record<string, unknown>)[name]);
      }
      return new ort.Tensor("float32", data, [rows.length, 1]);
    },
  };
}

/** An onnxruntime session for one model artifact. */
export class OnnxScorer {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly encoders: Encoder[],
    private readonly unknown: UnknownCategories,
    readonly encodedWidth: number,
  ) {}

  /** Loads model.onnx and checks its inputs/outputs against the model card. */
  static async create(
    model: Uint8Array,
    card: ModelCard,
    options: ScorerOptions = {},
  ): Promise<OnnxScorer> {
    const session = await ort.InferenceSession.create(model, {
      intraOpNumThreads: options.intraOpThreads ?? 1,
      interOpNumThreads: 1,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
    });
    const specs = rawFeatureSpecs(card);
    const missingInputs = specs.map((s) => s.name).filter((n) => !session.inputNames.includes(n));
    if (missingInputs.length > 0) {
      throw new ScorerError(`model.onnx lacks inputs for ${missingInputs.join(", ")}`);
    }
    for (const out of ["probability", "features"]) {
      if (!session.outputNames.includes(out)) {
        throw new ScorerError(
          `model.onnx has no output named "${out}" (outputs: ${session.outputNames.join(", ")})`,
        );
      }
    }
    return new OnnxScorer(
      session,
      specs.map(encoderFor),
      new UnknownCategories(specs),
      card.features.encoded.length,
    );
  }

  /** Scores validated rows; `withFeatures` also returns the encoded vectors (for SHAP). */
  async score(
    rows: readonly Record<string, unknown>[],
    withFeatures = false,
  ): Promise<ScoreOutput> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const enc of this.encoders) feeds[enc.name] = enc.encode(rows);
    const unknownCategories = this.unknown.find(rows);
    const fetches = withFeatures ? ["probability", "features"] : ["probability"];
    const result = await this.session.run(feeds, fetches);
    const prob = result.probability as ort.Tensor;
    if (prob.data.length !== rows.length) {
      throw new ScorerError(
        `probability output has ${prob.data.length} values for ${rows.length} rows`,
      );
    }
    const out: ScoreOutput = { probabilities: prob.data as Float32Array, unknownCategories };
    if (withFeatures) {
      const features = result.features as ort.Tensor;
      if (features.data.length !== rows.length * this.encodedWidth) {
        throw new ScorerError(
          `features output has ${features.data.length} values, expected ${rows.length} x ${this.encodedWidth}`,
        );
      }
      out.features = features.data as Float32Array;
    }
    return out;
  }

  /** Releases the native session. */
  async close(): Promise<void> {
    await this.session.release();
  }
}
