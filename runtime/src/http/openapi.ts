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
import { explainedQuantities } from "./explained-quantity.js";
import { RESPONSE_COMPONENTS, ref } from "./openapi-components.js";
import { v2Components, v2Paths } from "./v2/openapi-v2.js";

/** Stands for the instance while no model is loaded: the request body only refers to it. */
const UNLOADED_INSTANCE: ObjectShape = { fields: [], expected: "an object", component: "Instance" };

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

type Limits = { maxBatch: number; maxExplainRows: number };

/** The document's title and version: the served model's digest, or "unloaded". */
const info = (card: ModelCard | undefined): JsonSchema => ({
  title: "churn-runtime",
  version: card?.digest ?? "unloaded",
  description: `Churn scoring with exact TreeSHAP explanations${card ? ` for model ${card.name}` : ""}.`,
});

/** The Instance component: the request rules of the served model's columns. */
const instanceSchema = (instance: ObjectShape | undefined): JsonSchema =>
  instance
    ? shapeJsonSchema(instance, ref)
    : { type: "object", description: "Raw feature columns of the served model" };

/** A score or explain request body, from the request rules (explained: up to maxExplainRows rows). */
const scoreBody = (instance: ObjectShape | undefined, limits: Limits, explain: boolean) =>
  shapeJsonSchema(
    scoreRequestShape(instance ?? UNLOADED_INSTANCE, {
      maxInstances: explain ? limits.maxExplainRows : limits.maxBatch,
      maxExplainRows: limits.maxExplainRows,
    }),
    ref,
  );

/** What differs between the two routes that take rows in the body. */
const ROWS_IN_BODY = {
  "/v1/score": {
    explain: false,
    summary: "Score a batch of customers",
    answer: "One prediction per instance",
  },
  "/v1/explain": {
    explain: true,
    summary: "Score and explain a batch of customers (TreeSHAP per raw feature)",
    answer: "One explained prediction per instance",
  },
};

/** The answer's `explains`: present whenever it holds explanations. */
const EXPLAINS: JsonSchema = {
  type: "string",
  enum: [...explainedQuantities],
  description:
    "What each explanation's logOdds (baseValue + sum of contributions) is: probability-log-odds is logit(probability); uncalibrated-margin (isotonic calibration) is the trees' margin before the calibration map, which orders customers as the probability does but is not logit(probability)",
};

/** POST /v1/score and /v1/explain. */
function scorePaths(instance: ObjectShape | undefined, limits: Limits): Record<string, JsonSchema> {
  const path = ({ explain, summary, answer }: (typeof ROWS_IN_BODY)["/v1/score"]) => {
    const response: JsonSchema = {
      type: "object",
      required: ["modelVersion", "predictions", ...(explain ? ["explains"] : [])],
      properties: {
        modelVersion: { type: "string" },
        explains: EXPLAINS,
        predictions: { type: "array", items: ref(explain ? "ExplainedPrediction" : "Prediction") },
      },
      additionalProperties: false,
    };
    return {
      post: {
        summary,
        requestBody: {
          required: true,
          content: { "application/json": { schema: scoreBody(instance, limits, explain) } },
        },
        responses: { "200": json(response, answer), ...errors(400, 403, 413, 415, 503) },
      },
    };
  };
  return Object.fromEntries(Object.entries(ROWS_IN_BODY).map(([p, route]) => [p, path(route)]));
}

/** GET /v1/customers/{id}/score. */
const CUSTOMER_SCORE: JsonSchema = {
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
          properties: {
            modelVersion: { type: "string" },
            explains: EXPLAINS,
            prediction: ref("Prediction"),
          },
          additionalProperties: false,
        },
        "The customer's prediction",
      ),
      ...errors(400, 403, 404, 422, 503),
    },
  },
};

/** The routes around scoring: model card, liveness, readiness, this document, metrics. */
const OPERATIONAL_PATHS: Record<string, JsonSchema> = {
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
};

/** Builds the OpenAPI document for the served model (or a model-less one while loading). */
export function buildOpenApi(card: ModelCard | undefined, limits: Limits): JsonSchema {
  const instance = card ? instanceShape(card) : undefined;
  return {
    openapi: "3.1.0",
    info: info(card),
    paths: {
      ...scorePaths(instance, limits),
      "/v1/customers/{id}/score": CUSTOMER_SCORE,
      ...OPERATIONAL_PATHS,
      ...v2Paths(),
    },
    components: {
      schemas: {
        Instance: instanceSchema(instance),
        ...RESPONSE_COMPONENTS,
        ...v2Components(card, instance),
      },
    },
  };
}
