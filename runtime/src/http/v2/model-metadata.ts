// The Open Inference Protocol's model metadata, read off the same instance shape /v1 validates
// with and OpenAPI documents: one input tensor per raw column, the outputs this server answers.
import type { ModelCard } from "../../artifact/model-card.js";
import type { ObjectShape } from "../../validation/request-rules.js";
import { MODEL_OUTPUTS } from "./model-outputs.js";
import { advertisedDatatype } from "./tensor-datatypes.js";

/** A tensor's metadata: -1 is the batch dimension. */
export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

/** GET /v2/models/{name}. */
export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

/** The served model's metadata; `shape` is its instance shape (request-rules.ts). */
export function modelMetadata(card: ModelCard, digest: string, shape: ObjectShape): ModelMetadata {
  // Only the raw columns: the id, target and dropped columns are accepted too, but optional.
  const raw = new Set(card.features.raw);
  return {
    name: card.name,
    versions: [digest],
    platform: "onnxruntime_onnx",
    inputs: shape.fields
      .filter((f) => raw.has(f.name))
      .map((f) => ({ name: f.name, datatype: advertisedDatatype(f), shape: [-1] })),
    outputs: MODEL_OUTPUTS.map((o) => ({
      name: o.name,
      datatype: o.datatype,
      shape: o.width(card) === 1 ? [-1] : [-1, o.width(card)],
    })),
  };
}
