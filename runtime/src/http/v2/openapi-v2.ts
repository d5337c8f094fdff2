// The /v2 part of the OpenAPI document: the infer request's schema is read off the same shape
// its validator is compiled from, and the model's metadata names the served model's tensors.
import type { ModelCard } from "../../artifact/model-card.js";
import { shapeJsonSchema } from "../../validation/json-schema.js";
import type { JsonSchema, ObjectShape } from "../../validation/request-rules.js";
import { explainedQuantities } from "../explained-quantity.js";
import { ref } from "../openapi-components.js";
import {
  INFER_REQUEST_SHAPE,
  REQUESTED_OUTPUT_SHAPE,
  TENSOR_SHAPE,
} from "./infer-request-shape.js";
import { modelMetadata } from "./model-metadata.js";
import { HEADER_LENGTH } from "./v2-routes.js";

const json = (schema: JsonSchema, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const V2_ERRORS: Record<number, string> = {
  400: "Malformed JSON, or a tensor that does not fit the model (named)",
  403: "Explanations (contributions, base_value) are disabled on this server",
  404: "Unknown model name or version",
  413: "Body over the size limit",
  415: "Neither JSON nor binary tensor data",
  503: "Model not ready",
};
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), json(ref("V2Error"), V2_ERRORS[c] ?? "Error")]));
/** `{key: boolean}`, plus the model's name when `named`. */
const flag = (key: string, named = false): JsonSchema => ({
  type: "object",
  required: [key, ...(named ? ["name"] : [])],
  properties: { [key]: { type: "boolean" }, ...(named ? { name: { type: "string" } } : {}) },
  additionalProperties: false,
});
const NAME = { name: "name", in: "path", required: true, schema: { type: "string" } };
const VERSION = { name: "version", in: "path", required: true, schema: { type: "string" } };
const tensorMetadata: JsonSchema = {
  type: "object",
  required: ["name", "datatype", "shape"],
  properties: {
    name: { type: "string" },
    datatype: { type: "string" },
    shape: { type: "array", items: { type: "integer" } },
  },
  additionalProperties: false,
};

/** The model metadata schema; with a model loaded, its inputs and outputs are spelled out. */
function metadataSchema(card: ModelCard | undefined, instance: ObjectShape | undefined) {
  const schema: JsonSchema = {
    type: "object",
    required: ["name", "versions", "platform", "inputs", "outputs"],
    properties: {
      name: { type: "string" },
      versions: { type: "array", items: { type: "string" } },
      platform: { type: "string" },
      inputs: { type: "array", items: tensorMetadata },
      outputs: { type: "array", items: tensorMetadata },
    },
    additionalProperties: false,
  };
  if (card && instance) schema.examples = [modelMetadata(card, card.digest, instance)];
  return schema;
}

const inferResponse: JsonSchema = {
  type: "object",
  required: ["model_name", "model_version", "outputs"],
  properties: {
    model_name: { type: "string" },
    model_version: { type: "string", description: "sha256 of model.onnx" },
    id: { type: "string" },
    parameters: {
      type: "object",
      properties: { explains: { enum: [...explainedQuantities] } },
      description: "With contributions or base_value: what base_value + sum(contributions) is",
    },
    outputs: {
      type: "array",
      items: {
        type: "object",
        required: ["name", "datatype", "shape"],
        properties: {
          name: { enum: ["probability", "label", "contributions", "base_value"] },
          datatype: { enum: ["FP32", "FP64", "INT64"] },
          shape: { type: "array", items: { type: "integer" } },
          data: { type: "array", items: { type: "number" } },
          parameters: {
            type: "object",
            properties: { binary_data_size: { type: "integer" } },
          },
        },
        additionalProperties: false,
      },
    },
  },
  additionalProperties: false,
};

/** The per-model operations, under /v2/models/{name} and /v2/models/{name}/versions/{version}. */
function modelPaths(base: string, parameters: JsonSchema[]): Record<string, JsonSchema> {
  return {
    [base]: {
      get: {
        summary: "Model metadata: one input tensor per raw column, the outputs",
        parameters,
        responses: { "200": json(ref("V2ModelMetadata"), "The metadata"), ...errors(404, 503) },
      },
    },
    [`${base}/ready`]: {
      get: {
        summary: "Model readiness",
        parameters,
        responses: {
          "200": json(flag("ready", true), "Ready"),
          "503": json(flag("ready", true), "Not ready"),
          ...errors(404),
        },
      },
    },
    [`${base}/infer`]: {
      post: {
        summary: "Score (and, when asked for by outputs, explain) one tensor per raw column",
        parameters,
        requestBody: {
          required: true,
          content: {
            "application/json": { schema: shapeJsonSchema(INFER_REQUEST_SHAPE, ref) },
            "application/octet-stream": {
              schema: { type: "string", format: "binary" },
              description: `Binary tensor data extension: ${HEADER_LENGTH} bytes of JSON (the application/json schema), then each binary input's bytes in order`,
            },
          },
        },
        responses: {
          "200": {
            description: `The outputs; with binary outputs, application/octet-stream: ${HEADER_LENGTH} bytes of this JSON, then the outputs' bytes`,
            content: {
              "application/json": { schema: ref("V2InferResponse") },
              "application/octet-stream": { schema: { type: "string", format: "binary" } },
            },
          },
          ...errors(400, 403, 404, 413, 415, 503),
        },
      },
    },
  };
}

/** The Open Inference Protocol's paths. */
export function v2Paths(): Record<string, JsonSchema> {
  const health = (summary: string, key: string) => ({
    get: {
      summary,
      responses: {
        "200": json(flag(key), "Yes"),
        ...(key === "ready" ? { "503": json(flag(key), "Not ready") } : {}),
      },
    },
  });
  return {
    "/v2": {
      get: {
        summary: "Server metadata (Open Inference Protocol)",
        responses: {
          "200": json(
            {
              type: "object",
              required: ["name", "version", "extensions"],
              properties: {
                name: { type: "string" },
                version: { type: "string" },
                extensions: { type: "array", items: { type: "string" } },
              },
            },
            "Name, version and protocol extensions",
          ),
        },
      },
    },
    "/v2/health/live": health("Liveness (Open Inference Protocol)", "live"),
    "/v2/health/ready": health("Readiness (Open Inference Protocol)", "ready"),
    ...modelPaths("/v2/models/{name}", [NAME]),
    ...modelPaths("/v2/models/{name}/versions/{version}", [NAME, VERSION]),
  };
}

/** The /v2 component schemas. */
export function v2Components(
  card: ModelCard | undefined,
  instance: ObjectShape | undefined,
): Record<string, JsonSchema> {
  return {
    V2InputTensor: shapeJsonSchema(TENSOR_SHAPE, ref),
    V2RequestedOutput: shapeJsonSchema(REQUESTED_OUTPUT_SHAPE, ref),
    V2ModelMetadata: metadataSchema(card, instance),
    V2InferResponse: inferResponse,
    V2Error: {
      type: "object",
      required: ["error"],
      properties: { error: { type: "string" } },
      additionalProperties: false,
    },
  };
}
