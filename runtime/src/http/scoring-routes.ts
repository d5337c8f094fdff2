// The scoring routes: POST /v1/score and /v1/explain (rows in the body) and
// GET /v1/customers/:id/score (a row from the feature source).
import type Router from "@koa/router";
import type { Context } from "koa";
import type { FeatureSource } from "../data/feature-source.js";
import type { ModelService, Prediction } from "../model/model-service.js";
import { invalidInput, notReady, RequestError } from "../request-error.js";
import {
  instanceShape,
  type ObjectShape,
  type ScoreRequest,
  scoreRequestShape,
} from "../validation/request-rules.js";
import { compileValidator, type ShapeValidator } from "../validation/shape-validator.js";
import type { AppDeps } from "./app.js";
import { explainedQuantity } from "./explained-quantity.js";
import { readJsonBody } from "./json-body.js";
import { PredictionsAnswer } from "./predictions-answer.js";

type Limits = AppDeps["limits"];

/** The served model's request rules: the instance shape and its compiled validators. */
export interface Validators {
  /** One instance's shape (also what /v2 derives its input tensors from). */
  shape: ObjectShape;
  request: ShapeValidator<ScoreRequest>;
  instance: ShapeValidator<Record<string, unknown>>;
}

/** The served model's validators, compiled once per model digest (the card is known only once loaded). */
export function validatorsFor(model: ModelService, limits: Limits): () => Validators {
  let compiled: (Validators & { digest: string }) | undefined;
  return () => {
    const artifact = model.artifact;
    if (model.status !== "ready" || !artifact) throw notReady(model.reason);
    if (compiled?.digest !== artifact.digest) {
      const instance = instanceShape(artifact.card);
      const request = scoreRequestShape(instance, {
        maxInstances: limits.maxBatch,
        maxExplainRows: limits.maxExplainRows,
      });
      compiled = {
        digest: artifact.digest,
        shape: instance,
        request: compileValidator(request),
        instance: compileValidator(instance),
      };
    }
    return compiled;
  };
}

/** 403 unless explanations are enabled. */
export function requireExplanations(limits: Limits): void {
  if (limits.explanationsEnabled === false) {
    throw new RequestError(
      403,
      "explanations_disabled",
      "explanations are disabled on this server",
    );
  }
}

/** Reads and checks a score/explain body; whether to explain follows the route or the body's flag. */
async function parseScoreRequest(
  ctx: Context,
  request: Validators["request"],
  limits: Limits,
  forceExplain: boolean,
): Promise<{ instances: Record<string, unknown>[]; explain: boolean }> {
  const data = await readJsonBody(ctx, limits.maxBodyBytes);
  if (!request.accepts(data)) throw invalidInput(request.errors(data));
  const explain = forceExplain || data.explain === true;
  if (explain) requireExplanations(limits);
  if (explain && data.instances.length > limits.maxExplainRows) {
    throw invalidInput([
      {
        field: "instances",
        message: `holds ${data.instances.length} instances; explanations are limited to ${limits.maxExplainRows} per request`,
      },
    ]);
  }
  return { instances: data.instances, explain };
}

/** The ?explain= query flag of the customer route. */
function explainParam(ctx: Context, limits: Limits): boolean {
  const value = ctx.query.explain;
  if (value !== undefined && value !== "true" && value !== "false") {
    throw invalidInput([{ field: "explain", message: "must be true or false" }]);
  }
  if (value === "true") requireExplanations(limits);
  return value === "true";
}

/** The server's customer feature source; 404 when it was started without one. */
function featureSource(deps: AppDeps): FeatureSource {
  if (deps.features) return deps.features;
  throw new RequestError(
    404,
    "no_feature_source",
    "this server has no customer feature source (start it with --features FILE)",
  );
}

/** The stored row of customer `id`, checked against the model's schema, with its id set. */
function storedCustomer(
  features: FeatureSource,
  instance: Validators["instance"],
  id: string,
  idColumn: string | null | undefined,
): Record<string, unknown> {
  const row = features.get(id);
  if (!row) {
    throw new RequestError(404, "unknown_customer", `unknown customer id ${JSON.stringify(id)}`);
  }
  if (!instance.accepts(row)) {
    // The stored record, not the caller, is at fault; still a clear 4xx naming the fields.
    throw new RequestError(
      422,
      "invalid_stored_features",
      `stored features of customer ${JSON.stringify(id)} fail the model's schema`,
      instance.errors(row),
    );
  }
  return idColumn ? { ...row, [idColumn]: id } : row;
}

/** The response's fields beside its predictions: the model version and, when explained, what
 * the explanations are of (the trees' margin, not logit(probability), under isotonic calibration). */
function answerHead(model: ModelService, explain: boolean) {
  const artifact = model.artifact;
  return {
    modelVersion: artifact?.digest,
    ...(explain && artifact ? { explains: explainedQuantity(artifact.card) } : {}),
  };
}

/** The answer of /v1/score and /v1/explain: answerHead's fields and the predictions. */
function predictionsAnswer(model: ModelService, explain: boolean, predictions: Prediction[]) {
  const { modelVersion, explains } = answerHead(model, explain);
  return new PredictionsAnswer(modelVersion, explains, predictions);
}

/** Adds the scoring routes to `router`. */
export function addScoringRoutes(router: Router, deps: AppDeps): void {
  const { model, limits } = deps;
  const validators = validatorsFor(model, limits);
  router.post("/v1/score", async (ctx) => {
    const { request } = validators();
    const { instances, explain } = await parseScoreRequest(ctx, request, limits, false);
    const predictions = await model.predict(instances, explain, explain ? "explain" : "score");
    ctx.body = predictionsAnswer(model, explain, predictions);
  });
  router.post("/v1/explain", async (ctx) => {
    const { request } = validators();
    const { instances } = await parseScoreRequest(ctx, request, limits, true);
    const predictions = await model.predict(instances, true, "explain");
    ctx.body = predictionsAnswer(model, true, predictions);
  });
  router.get("/v1/customers/:id/score", async (ctx) => {
    const { instance } = validators();
    const features = featureSource(deps);
    const explain = explainParam(ctx, limits);
    const idColumn = model.artifact?.card.schema.idColumn;
    const row = storedCustomer(features, instance, ctx.params.id as string, idColumn);
    const [prediction] = await model.predict([row], explain, "customer");
    ctx.body = { ...answerHead(model, explain), prediction };
  });
}
