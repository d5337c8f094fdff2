// The output tensors of an Open Inference Protocol answer: each one's datatype, shape, whether
// it needs explanations (so a request that does not ask for them stays on the cheap path) and
// how its values are read off /v1's predictions.
import type { ModelCard } from "../../artifact/model-card.js";
import type { Explanation } from "../../explain/attribution.js";
import type { Prediction } from "../../model/model-service.js";
import type { OutputDatatype } from "./tensor-datatypes.js";

/** One output tensor this server can answer with. */
export interface OutputSpec {
  readonly name: string;
  readonly datatype: OutputDatatype;
  /** Computed only when asked for: it needs the SHAP values. */
  readonly explained: boolean;
  /** Sent when the request names no outputs. */
  readonly byDefault: boolean;
  /** Elements per row: 1, or one per raw column. */
  readonly width: (card: ModelCard) => number;
  /** The row-major values for these predictions. */
  readonly values: (predictions: readonly Prediction[], card: ModelCard) => ArrayLike<number>;
  readonly description: string;
}

const one = (): number => 1;
const explanation = (p: Prediction): Explanation => p.explanation as Explanation;

/** The outputs, in the order the metadata lists them and answers return them. */
export const MODEL_OUTPUTS: readonly OutputSpec[] = [
  {
    name: "probability",
    // The graph's own float32 output: FP32 carries it exactly.
    datatype: "FP32",
    explained: false,
    byDefault: true,
    width: one,
    values: (ps) => Float32Array.from(ps, (p) => p.probability),
    description: "Churn probability",
  },
  {
    name: "label",
    datatype: "INT64",
    explained: false,
    byDefault: true,
    width: one,
    values: (ps) => ps.map((p) => (p.label ? 1 : 0)),
    description:
      "1 when probability >= the decision threshold (the schema's positive target value), else 0",
  },
  {
    name: "contributions",
    datatype: "FP64",
    explained: true,
    byDefault: false,
    width: (card) => card.features.raw.length,
    values: (ps, card) => {
      const raw = card.features.raw;
      const out = new Float64Array(ps.length * raw.length);
      ps.forEach((p, i) => {
        const c = explanation(p).contributions;
        raw.forEach((name, k) => {
          out[i * raw.length + k] = c[name] as number;
        });
      });
      return out;
    },
    description:
      "SHAP value per raw column in the model's input order (one-hot parts summed), in log-odds",
  },
  {
    name: "base_value",
    datatype: "FP64",
    explained: true,
    byDefault: false,
    width: one,
    values: (ps) => Float64Array.from(ps, (p) => explanation(p).baseValue),
    description:
      "Expected log-odds over the training data: base_value + sum(contributions) = log-odds",
  },
];

/** The output named `name`, if there is one. */
export const outputNamed = (name: string): OutputSpec | undefined =>
  MODEL_OUTPUTS.find((o) => o.name === name);
