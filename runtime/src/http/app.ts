// Builds the koa application of `serve`: the middleware chain (request ids, access logs and
// metrics; error mapping; test faults) in front of the scoring and operational routes.
// Listening and process lifecycle live in server.ts.
import Router from "@koa/router";
import Koa from "koa";
import type { FeatureSource } from "../data/feature-source.js";
import type { Logger } from "../logger.js";
import type { RuntimeMetrics } from "../metrics.js";
import type { ModelService } from "../model/model-service.js";
import { RequestError } from "../request-error.js";
import { errorMiddleware } from "./error-middleware.js";
import type { InflightTracker } from "./inflight-tracker.js";
import { observe } from "./observe.js";
import { addOperationalRoutes } from "./operational-routes.js";
import { writePredictionsAnswers } from "./predictions-answer.js";
import { addScoringRoutes } from "./scoring-routes.js";
import { testFaults } from "./test-fault.js";
import { addV2Routes } from "./v2/v2-routes.js";

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

const methodNotAllowed = () =>
  new RequestError(405, "method_not_allowed", "method not allowed on this route");

/** Builds the koa app serving one model. */
export function buildApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = false;
  // Koa's default error listener prints stacks to stderr; errors are already logged as JSON.
  app.silent = true;
  const router = new Router();
  addScoringRoutes(router, deps);
  addOperationalRoutes(router, deps);
  addV2Routes(router, deps);
  // Outermost: answers are written as JSON after every middleware is done with them, where
  // koa would write them (so, as before, the request's timing does not include it).
  app.use(writePredictionsAnswers);
  app.use(observe(deps));
  app.use(errorMiddleware(deps.logger));
  app.use(testFaults(process.env, deps.logger));
  app.use(router.routes());
  app.use(
    router.allowedMethods({
      throw: true,
      methodNotAllowed,
      notImplemented: methodNotAllowed,
    }),
  );
  return app;
}
