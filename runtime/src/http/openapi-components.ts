// The response schemas of the OpenAPI document: the same for every model.
import type { JsonSchema } from "../validation/request-rules.js";

/** A reference to one of the document's component schemas. */
export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

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

/** The component schemas of the responses, by name. */
export const RESPONSE_COMPONENTS: Record<string, JsonSchema> = {
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
};
