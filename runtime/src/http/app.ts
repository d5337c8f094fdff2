// Builds the koa application: routes, validation, error mapping, request ids, access logs and
// metrics. Listening and process lifecycle live in server.ts.
import { randomUUID } from "node:crypto";
import Router from "@koa/router";
import Koa, { type Context, type Next } from "koa";
import type { FeatureSource } from "../data/feature-source.js";
import type { Logger } from "../logger.js";
import type { RuntimeMetrics } from "../metrics.js";
import type { ModelService } from "../model/model-service.js";
import { invalidInput, notReady, RequestError } from "../request-error.js";
import {
  instanceShape,
  type ScoreRequest,
  scoreRequestShape,
} from "../validation/request-rules.js";
import { compileValidator, type ShapeValidator } from "../validation/shape-validator.js";
import { errorMiddleware } from "./error-middleware.js";
import type { InflightTracker } from "./inflight-tracker.js";
import { readJsonBody } from "./json-body.js";
import { buildOpenApi } from "./openapi.js";
import { testFaults } from "./test-fault.js";

/** What the app needs from its host. */
export interface AppDeps {
  model: ModelService;
  metrics: RuntimeMetrics;
  logger: Logger;
  features?: FeatureSource | undefined;
  limits: {
    maxBatch: number;
    maxExplainRows: number;
    maxBodyBytes: number;
    explanationsEnabled?: boolean;
  };
  inflight?: InflightTracker;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Assigns a request id, times the request, counts it by route template, and logs it. */
function observe(deps: AppDeps) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const start = process.hrtime.bigint();
    const incoming = ctx.get("x-request-id");
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set("x-request-id", requestId);
    deps.inflight?.enter();
    try {
      await next();
    } finally {
      deps.inflight?.leave();
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      // Templates, never raw paths, so label cardinality stays bounded.
      const matched = (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute;
      const route = typeof matched === "string" ? matched : "unmatched";
      const labels = { method: ctx.method, route, code: String(ctx.status) };
      deps.metrics.requestDuration.observe(labels, seconds);
      deps.metrics.requests.inc(labels);
      // 503 is an expected state (loading, draining, failed self-check), not a server fault.
      const level =
        ctx.status >= 500 && ctx.status !== 503
          ? "error"
          : route === "/metrics" || route.endsWith("z")
            ? "debug"
            : "info";
      if (deps.logger.enabled(level)) {
        deps.logger[level]("request", {
          requestId,
          method: ctx.method,
          path: ctx.path,
          route,
          status: ctx.status,
          durationMs: Math.round(seconds * 1e5) / 100,
        });
      }
    }
  };
}

/** Builds the koa app serving one model. */
export function buildApp(deps: AppDeps): Koa {
  const { model, metrics, limits } = deps;
  const app = new Koa();
  app.proxy = false;
  // Koa's default error listener prints stacks to stderr; errors are already logged as JSON.
  app.silent = true;

  // Validators depend on the model card, which is known only once the artifact is loaded.
  let schemas:
    | {
        digest: string;
        request: ShapeValidator<ScoreRequest>;
        instance: ShapeValidator<Record<string, unknown>>;
      }
    | undefined;
  const schemasFor = () => {
    const artifact = model.artifact;
    if (model.status !== "ready" || !artifact) throw notReady(model.reason);
    if (schemas?.digest !== artifact.digest) {
      const instance = instanceShape(artifact.card);
      schemas = {
        digest: artifact.digest,
        request: compileValidator(
          scoreRequestShape(instance, {
            maxInstances: limits.maxBatch,
            maxExplainRows: limits.maxExplainRows,
          }),
        ),
        instance: compileValidator(instance),
      };
    }
    return schemas;
  };

  const requireExplanations = () => {
    if (limits.explanationsEnabled === false) {
      throw new RequestError(
        403,
        "explanations_disabled",
        "explanations are disabled on this server",
      );
    }
  };

  const parseScoreRequest = async (ctx: Context, forceExplain: boolean) => {
    const { request } = schemasFor();
    const data = await readJsonBody(ctx, limits.maxBodyBytes);
    if (!request.accepts(data)) throw invalidInput(request.errors(data));
    const explain = forceExplain || data.explain === true;
    if (explain) requireExplanations();
    if (explain && data.instances.length > limits.maxExplainRows) {
      throw invalidInput([
        {
          field: "instances",
          message: `holds ${data.instances.length} instances; explanations are limited to ${limits.maxExplainRows} per request`,
        },
      ]);
    }
    return { instances: data.instances, explain };
  };

  const router = new Router();
  router.post("/v1/score", async (ctx) => {
    const { instances, explain } = await parseScoreRequest(ctx, false);
    const predictions = await model.predict(instances, explain, explain ? "explain" : "score");
    ctx.body = { modelVersion: model.artifact?.digest, predictions };
  });
  router.post("/v1/explain", async (ctx) => {
    const { instances } = await parseScoreRequest(ctx, true);
    const predictions = await model.predict(instances, true, "explain");
    ctx.body = { modelVersion: model.artifact?.digest, predictions };
  });
  router.get("/v1/customers/:id/score", async (ctx) => {
    const { instance } = schemasFor();
    if (!deps.features) {
      throw new RequestError(
        404,
        "no_feature_source",
        "this server has no customer feature source (start it with --features FILE)",
      );
    }
    const explainParam = ctx.query.explain;
    if (explainParam !== undefined && explainParam !== "true" && explainParam !== "false") {
      throw invalidInput([{ field: "explain", message: "must be true or false" }]);
    }
    if (explainParam === "true") requireExplanations();
    const id = ctx.params.id as string;
    const row = deps.features.get(id);
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
    const idColumn = model.artifact?.card.schema.idColumn;
    const withId = idColumn ? { ...row, [idColumn]: id } : row;
    const [prediction] = await model.predict([withId], explainParam === "true", "customer");
    ctx.body = { modelVersion: model.artifact?.digest, prediction };
  });
  router.get("/v1/model", (ctx) => {
    if (!model.artifact) throw notReady(model.reason);
    ctx.body = model.artifact.card;
  });
  router.get("/healthz", (ctx) => {
    ctx.body = { status: "ok" };
  });
  router.get("/readyz", (ctx) => {
    const ready = model.status === "ready" && !model.draining;
    ctx.status = ready ? 200 : 503;
    ctx.body = {
      ready,
      status: model.status,
      ...(ready ? {} : { reason: model.draining ? "shutting down" : model.reason }),
      ...(model.artifact ? { modelVersion: model.artifact.digest } : {}),
      ...(model.selfCheck ? { selfCheck: model.selfCheck } : {}),
    };
  });
  router.get("/openapi.json", (ctx) => {
    ctx.body = buildOpenApi(model.artifact?.card, limits);
  });
  router.get("/metrics", async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });

  app.use(observe(deps));
  app.use(errorMiddleware(deps.logger));
  app.use(testFaults(process.env, deps.logger));
  app.use(router.routes());
  app.use(
    router.allowedMethods({
      throw: true,
      methodNotAllowed: () =>
        new RequestError(405, "method_not_allowed", "method not allowed on this route"),
      notImplemented: () =>
        new RequestError(405, "method_not_allowed", "method not allowed on this route"),
    }),
  );
  return app;
}
