// KServe's Open Inference Protocol (V2, REST) beside /v1: server and model metadata, health and
// readiness, and infer with JSON or binary tensor data. The tensors become /v1's rows
// (infer-request.ts) and are scored through the same ModelService call.
import type Router from "@koa/router";
import type { Context } from "koa";
import { RequestError } from "../../request-error.js";
import { readBody } from "../../router/request-body.js";
import type { AppDeps } from "../app.js";
import { SERVER_METADATA, V2Inference } from "./v2-inference.js";

/** The request and response header of the binary tensor data extension. */
export const HEADER_LENGTH = "inference-header-content-length";

/** Route templates of a model's routes, and of one version's (metrics count under them). */
export const V2_MODEL_ROUTE = "/v2/models/:name";
export const V2_VERSION_ROUTE = "/v2/models/:name/versions/:version";
const MODEL = V2_MODEL_ROUTE;
const VERSION = V2_VERSION_ROUTE;

/** Splits a body into its JSON and, under the binary extension, the binary data after it. */
function splitBody(ctx: Context, body: Buffer): { json: unknown; binary: Buffer } {
  const encoding = (ctx.get("content-encoding") || "identity").toLowerCase();
  if (encoding !== "identity") {
    throw new RequestError(
      415,
      "unsupported_media_type",
      `content-encoding ${encoding} is not accepted`,
    );
  }
  const declared = ctx.get(HEADER_LENGTH);
  let length = body.length;
  if (declared) {
    length = Number(declared);
    if (!Number.isSafeInteger(length) || length < 0 || length > body.length) {
      throw new RequestError(
        400,
        "malformed_request",
        `${HEADER_LENGTH} must be an integer from 0 to the body's ${body.length} bytes, got ${JSON.stringify(declared.slice(0, 40))}`,
      );
    }
  } else {
    // tritonclient sends JSON without a content type.
    const type = (ctx.get("content-type") || "").split(";")[0]?.trim().toLowerCase() ?? "";
    if (
      type !== "" &&
      type !== "application/json" &&
      !/^application\/[a-z0-9.+-]+\+json$/.test(type)
    ) {
      throw new RequestError(
        415,
        "unsupported_media_type",
        `content-type must be application/json, or binary data announced by ${HEADER_LENGTH}; got ${JSON.stringify(type)}`,
      );
    }
  }
  const text = body.toString("utf8", 0, length);
  if (text.trim() === "") throw new RequestError(400, "malformed_json", "request body is empty");
  try {
    return { json: JSON.parse(text), binary: body.subarray(length) };
  } catch (err) {
    throw new RequestError(
      400,
      "malformed_json",
      `request JSON is not valid: ${(err as Error).message}`,
    );
  }
}

type Params = { name: string; version?: string };

/** Adds the /v2 routes to `router`. */
export function addV2Routes(router: Router, deps: AppDeps): void {
  const v2 = new V2Inference(deps);

  router.get("/v2", (ctx) => {
    ctx.body = SERVER_METADATA;
  });
  router.get("/v2/health/live", (ctx) => {
    ctx.body = { live: true };
  });
  router.get("/v2/health/ready", (ctx) => {
    ctx.status = v2.ready ? 200 : 503;
    ctx.body = { ready: v2.ready };
  });
  for (const base of [MODEL, VERSION]) {
    router.get(base, (ctx) => {
      const { name, version } = ctx.params as Params;
      ctx.body = v2.metadata(name, version);
    });
    router.get(`${base}/ready`, (ctx) => {
      const { name, version } = ctx.params as Params;
      v2.artifact(name, version);
      ctx.status = v2.ready ? 200 : 503;
      ctx.body = { name, ready: v2.ready };
    });
    router.post(`${base}/infer`, async (ctx) => {
      const { name, version } = ctx.params as Params;
      v2.artifact(name, version);
      const { json, binary } = splitBody(ctx, await readBody(ctx, deps.limits.maxBodyBytes));
      const answer = await v2.infer(name, version, json, binary);
      if (answer.binary.length === 0) {
        ctx.body = answer.json;
        return;
      }
      const head = Buffer.from(JSON.stringify(answer.json));
      ctx.set(HEADER_LENGTH, String(head.length));
      ctx.type = "application/octet-stream";
      ctx.body = Buffer.concat([head, ...answer.binary]);
    });
  }
}
