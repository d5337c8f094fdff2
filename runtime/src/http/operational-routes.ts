// The routes around scoring: the model card, liveness, readiness, the OpenAPI document and the
// Prometheus metrics.
import type Router from "@koa/router";
import type { ModelService } from "../model/model-service.js";
import { notReady } from "../request-error.js";
import type { AppDeps } from "./app.js";
import { buildOpenApi } from "./openapi.js";

/** Ready: the self-check passed and the server is not draining (/readyz and /v2's health). */
export const isReady = (model: ModelService): boolean =>
  model.status === "ready" && !model.draining;

/** The /readyz body: ready only once the self-check passed, and not while draining. */
function readiness(model: ModelService): { ready: boolean } & Record<string, unknown> {
  const ready = isReady(model);
  return {
    ready,
    status: model.status,
    ...(ready ? {} : { reason: model.draining ? "shutting down" : model.reason }),
    ...(model.artifact ? { modelVersion: model.artifact.digest } : {}),
    ...(model.selfCheck ? { selfCheck: model.selfCheck } : {}),
  };
}

/** Adds /v1/model, /healthz, /readyz, /openapi.json and /metrics to `router`. */
export function addOperationalRoutes(router: Router, deps: AppDeps): void {
  const { model, metrics, limits } = deps;
  router.get("/v1/model", (ctx) => {
    if (!model.artifact) throw notReady(model.reason);
    ctx.body = model.artifact.card;
  });
  router.get("/healthz", (ctx) => {
    ctx.body = { status: "ok" };
  });
  router.get("/readyz", (ctx) => {
    const body = readiness(model);
    ctx.status = body.ready ? 200 : 503;
    ctx.body = body;
  });
  router.get("/openapi.json", (ctx) => {
    ctx.body = buildOpenApi(model.artifact?.card, limits);
  });
  router.get("/metrics", async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
}
