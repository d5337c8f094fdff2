// The first middleware of every request: assigns its request id, counts it as in flight, times
// it, records it under its route template and writes its access log line.
import { randomUUID } from "node:crypto";
import type { Context, Next } from "koa";
import type { Logger } from "../logger.js";
import type { RuntimeMetrics } from "../metrics.js";
import type { InflightTracker } from "./inflight-tracker.js";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives the request its id: the caller's x-request-id when it is a plain token of at most 128
 * characters, else a new UUID; kept in ctx.state.requestId and echoed in the x-request-id header.
 */
export function assignRequestId(ctx: Context): string {
  const incoming = ctx.get("x-request-id");
  const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
  ctx.state.requestId = requestId;
  ctx.set("x-request-id", requestId);
  return requestId;
}

/** Assigns a request id, times the request, counts it by route template, and logs it. */
export function observe(deps: {
  metrics: RuntimeMetrics;
  logger: Logger;
  inflight?: InflightTracker | undefined;
}) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const start = process.hrtime.bigint();
    assignRequestId(ctx);
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
      logRequest(deps.logger, level, ctx, seconds, { route });
    }
  };
}

/**
 * Writes a request's access log line (when its level is on): the request id, method, path, what
 * served it (`route` here, `variant` in the router), status and duration.
 */
export function logRequest(
  logger: Logger,
  level: "error" | "info" | "debug",
  ctx: Context,
  seconds: number,
  servedBy: { route: string } | { variant: string },
): void {
  if (!logger.enabled(level)) return;
  logger[level]("request", {
    requestId: ctx.state.requestId,
    method: ctx.method,
    path: ctx.path,
    ...servedBy,
    status: ctx.status,
    durationMs: Math.round(seconds * 1e5) / 100,
  });
}
