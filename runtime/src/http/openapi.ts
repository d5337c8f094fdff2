// The OpenAPI 3.1 document of this API. The instance schema is derived from the served model's
// card, so the document describes exactly what validation accepts; a test checks real responses
// against it.
import type { ModelCard } from "../artifact/model-card.js";
import { shapeJsonSchema } from "../validation/json-schema.js";
import {
  instanceShape,
  type JsonSchema,
  type ObjectShape,
  scoreRequestShape,
} from "../validation/request-rules.js";

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/** Stands for the instance while no model is loaded: the request body only refers to it. */
const UNLOADED_INSTANCE: ObjectShape = { fields: [], expected: "an object", component: "Instance" };

const driver: JsonSchema = {
  type: "object",
  required: ["feature", "value", "contribution"],
  properties: { feature: { type: "string" }, value: {}, contribution: { type: "number" } },
  additionalProperties: false,
};

const explanation: JsonSchema = {
  type: "object",
  required: ["baseValue", "logOdds", "contributions", "topPositive", "topNegative"],
  properties: {
    baseValue: { type: "number", description: "Expected log-odds over the training data" },
    logOdds: { type: "number", description: "This row's log-odds: baseValue + sum(contributions)" },
    contributions: {
      type: "object",
      additionalProperties: { type: "number" },
      description: "SHAP value per raw input column (one-hot parts summed), in log-odds",
    },
    topPositive: { type: "array", items: driver },
    topNegative: { type: "array", items: driver },
  },
  additionalProperties: false,
};

const prediction = (explained: boolean): JsonSchema => ({
  type: "object",
  required: [
    "probability",
    "label",
    "threshold",
    "modelVersion",
    ...(explained ? ["explanation"] : []),
  ],
  properties: {
    id: { type: ["string", "number"] },
    probability: { type: "number", minimum: 0, maximum: 1 },
    label: { type: "boolean", description: "probability >= threshold" },
    threshold: { type: "number" },
    modelVersion: { type: "string", description: "sha256 of model.onnx" },
    unknownCategories: {
      type: "array",
      items: { type: "string" },
      description: "Columns whose value was outside the schema's categories",
    },
    explanation: ref("Explanation"),
  },
  additionalProperties: false,
});

const errorSchema: JsonSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: {
        code: { type: "string" },
        message: { type: "string" },
        fields: {
          type: "array",
          items: {
            type: "object",
            required: ["field", "message"],
            properties: { field: { type: "string" }, message: { type: "string" } },
            additionalProperties: false,
          },
        },
      },
      additionalProperties: false,
    },
    requestId: { type: "string" },
  },
  additionalProperties: false,
};

const json = (schema: JsonSchema, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), json(ref("Error"), ERROR_TEXT[c] ?? "Error")]));
const ERROR_TEXT: Record<number, string> = {
  400: "Malformed JSON or invalid fields (each named)",
  403: "Explanations are disabled on this server",
  404: "Unknown customer id, or no feature source",
  413: "Body over the size limit",
  415: "Content type is not JSON",
  422: "The stored features fail the schema",
  503: "Model not ready (reason given)",
};

/** Builds the OpenAPI document for the served model (or a model-less one while loading). */
export function buildOpenApi(
  card: ModelCard | undefined,
  limits: { maxBatch: number; maxExplainRows: number },
): JsonSchema {
  const instance = card ? instanceShape(card) : undefined;
  const scoreBody = (explain: boolean): JsonSchema =>
    shapeJsonSchema(
      scoreRequestShape(instance ?? UNLOADED_INSTANCE, {
        maxInstances: explain ? limits.maxExplainRows : limits.maxBatch,
        maxExplainRows: limits.maxExplainRows,
      }),
      ref,
    );
  const scoreResponse = (explained: boolean): JsonSchema => ({
    type: "object",
    required: ["modelVersion", "predictions"],
    properties: {
      modelVersion: { type: "string" },
      predictions: { type: "array", items: ref(explained ? "ExplainedPrediction" : "Prediction") },
    },
    additionalProperties: false,
  });
  return {
    openapi: "3.1.0",
    info: {
      title: "churn-runtime",
      version: card?.digest ?? "unloaded",
      description: `Churn scoring with exact TreeSHAP explanations${card ? ` for model ${card.name}` : ""}.`,
    },
    paths: {
      "/v1/score": {
        post: {
          summary: "Score a batch of customers",
          requestBody: {
            required: true,
            content: { "application/json": { schema: scoreBody(false) } },
          },
          responses: {
            "200": json(scoreResponse(false), "One prediction per instance"),
            ...errors(400, 403, 413, 415, 503),
          },
        },
      },
      "/v1/explain": {
        post: {
          summary: "Score and explain a batch of customers (TreeSHAP per raw feature)",
          requestBody: {
            required: true,
            content: { "application/json": { schema: scoreBody(true) } },
          },
          responses: {
            "200": json(scoreResponse(true), "One explained prediction per instance"),
            ...errors(400, 403, 413, 415, 503),
          },
        },
      },
      "/v1/customers/{id}/score": {
        get: {
          summary: "Score a stored customer from the feature source",
          parameters: [
            { name: "id", in: "path", required: true, schema: { type: "string" } },
            { name: "explain", in: "query", required: false, schema: { type: "boolean" } },
          ],
          responses: {
            "200": json(
              {
                type: "object",
                required: ["modelVersion", "prediction"],
                properties: { modelVersion: { type: "string" }, prediction: ref("Prediction") },
                additionalProperties: false,
              },
              "The customer's prediction",
            ),
            ...errors(400, 403, 404, 422, 503),
          },
        },
      },
      "/v1/model": {
        get: {
          summary: "The model card (model.json)",
          responses: { "200": json(ref("ModelCard"), "The served model's card"), ...errors(503) },
        },
      },
      "/healthz": {
        get: {
          summary: "Liveness",
          responses: {
            "200": json(
              { type: "object", required: ["status"], properties: { status: { const: "ok" } } },
              "The process is alive",
            ),
          },
        },
      },
      "/readyz": {
        get: {
          summary: "Readiness: the model loaded and passed its self-check",
          responses: {
            "200": json(ref("Readiness"), "Ready"),
            "503": json(ref("Readiness"), "Not ready, with the reason"),
          },
        },
      },
      "/openapi.json": {
        get: {
          summary: "This document",
          responses: { "200": json({ type: "object" }, "OpenAPI 3.1") },
        },
      },
      "/metrics": {
        get: {
          summary: "Prometheus metrics",
          responses: {
            "200": {
              description: "Prometheus text format",
              content: { "text/plain": { schema: { type: "string" } } },
            },
          },
        },
      },
    },
    components: {
      schemas: {
        Instance: instance
          ? shapeJsonSchema(instance, ref)
          : { type: "object", description: "Raw feature columns of the served model" },
        Prediction: prediction(false),
        ExplainedPrediction: prediction(true),
        Explanation: explanation,
        Error: errorSchema,
        Readiness: {
          type: "object",
          required: ["ready", "status"],
          properties: {
            ready: { type: "boolean" },
            status: { enum: ["loading", "ready", "failed"] },
            reason: { type: "string" },
            modelVersion: { type: "string" },
            selfCheck: {
              type: "object",
              required: [
                "passed",
                "reason",
                "rows",
                "maxProbabilityDiff",
                "maxContributionDiff",
                "maxMarginDiff",
              ],
              properties: {
                passed: { type: "boolean" },
                reason: { type: "string" },
                rows: { type: "integer" },
                maxProbabilityDiff: { type: ["number", "null"] },
                maxContributionDiff: { type: ["number", "null"] },
                maxMarginDiff: { type: ["number", "null"] },
              },
            },
          },
          additionalProperties: false,
        },
        ModelCard: {
          type: "object",
          required: ["formatVersion", "digest", "name", "schema", "features", "threshold"],
          properties: {
            formatVersion: { const: 1 },
            digest: { type: "string", pattern: "^[0-9a-f]{64}$" },
            name: { type: "string" },
            schema: { type: "object" },
            features: { type: "object" },
            threshold: { type: "object", required: ["value"] },
          },
        },
      },
    },
  };
}
