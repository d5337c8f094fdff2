// Maps every error a handler throws to one JSON body; messages are shown for 4xx only. Under
// /v2 (the Open Inference Protocol) the body is that protocol's `{"error": "message"}`.
import type { Context, Next } from "koa";
import type { Logger } from "../logger.js";
import { RequestError } from "../request-error.js";

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; fields?: { field: string; message: string }[] };
  requestId?: string;
}

/** The Open Inference Protocol's error body. */
export interface V2ErrorBody {
  error: string;
}

const V2_PATH = /^\/v2(\/|$)/;

/** Koa middleware: RequestError -> its status; anything else -> 500 with a generic message. */
export function errorMiddleware(logger: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new RequestError(404, "not_found", `no route for ${ctx.method} ${ctx.path}`);
      }
    } catch (err) {
      const requestId = ctx.state.requestId as string | undefined;
      const { status, body } = errorResponse(err, requestId, logger);
      ctx.status = status;
      if (requestId) body.requestId = requestId;
      // The request id stays in the x-request-id header for both shapes.
      ctx.body = V2_PATH.test(ctx.path) ? ({ error: body.error.message } as V2ErrorBody) : body;
      if (ctx.status === 503) ctx.set("retry-after", "5");
    }
  };
}

/** The status and v1 body for a thrown value; unexpected errors are logged with their stack. */
function errorResponse(
  err: unknown,
  requestId: string | undefined,
  logger: Logger,
): { status: number; body: ErrorBody } {
  if (err instanceof RequestError) {
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err.fields.length > 0) body.error.fields = [...err.fields];
    return { status: err.status, body };
  }
  if (isHttpError(err) && err.status < 500) {
    // Errors raised by koa itself (e.g. a bad URI) carry their own 4xx status.
    return { status: err.status, body: { error: { code: "bad_request", message: err.message } } };
  }
  logger.error("request failed", {
    requestId,
    error: err instanceof Error ? (err.stack ?? err.message) : String(err),
  });
  return {
    status: 500,
    body: { error: { code: "internal", message: "internal error; see the server log" } },
  };
}

function isHttpError(err: unknown): err is { status: number; message: string } {
  return (
    typeof err === "object" &&
    err !== null &&
    typeof (err as { status?: unknown }).status === "number" &&
    (err as { expose?: unknown }).expose === true
  );
}
