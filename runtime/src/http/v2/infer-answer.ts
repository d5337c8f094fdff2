// The answer to an Open Inference Protocol infer request: the planned outputs read off /v1's
// predictions, each as JSON data or as binary data appended after the JSON (binary tensor data
// extension, announced by the Inference-Header-Content-Length response header).
import type { ModelCard } from "../../artifact/model-card.js";
import type { Prediction } from "../../model/model-service.js";
import { type ExplainedQuantity, explainedQuantity } from "../explained-quantity.js";
import type { InferPlan } from "./infer-request.js";
import { encodeBinary } from "./tensor-datatypes.js";

/** One output tensor of the answer. */
export interface OutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  data?: number[];
  parameters?: { binary_data_size: number };
}

/** The answer's JSON and the binary data that follows it (empty when all is JSON). */
export interface InferAnswer {
  json: {
    model_name: string;
    model_version: string;
    id?: string;
    /** With explanations: what base_value + sum(contributions) is (as /v1's `explains`). */
    parameters?: { explains: ExplainedQuantity };
    outputs: OutputTensor[];
  };
  binary: Buffer[];
}

/** Builds the answer of `plan` from the predictions of its rows. */
export function inferAnswer(
  plan: InferPlan,
  predictions: readonly Prediction[],
  card: ModelCard,
  digest: string,
): InferAnswer {
  const n = predictions.length;
  const binary: Buffer[] = [];
  const outputs = plan.outputs.map(({ spec, binary: asBinary }): OutputTensor => {
    const width = spec.width(card);
    const tensor: OutputTensor = {
      name: spec.name,
      datatype: spec.datatype,
      shape: width === 1 ? [n] : [n, width],
    };
    const values = spec.values(predictions, card);
    if (asBinary) {
      const bytes = encodeBinary(spec.datatype, values);
      binary.push(bytes);
      tensor.parameters = { binary_data_size: bytes.length };
    } else {
      tensor.data = Array.from(values);
    }
    return tensor;
  });
  const json: InferAnswer["json"] = { model_name: card.name, model_version: digest, outputs };
  if (plan.id !== undefined) json.id = plan.id;
  if (plan.explain) json.parameters = { explains: explainedQuantity(card) };
  return { json, binary };
}
