// KServe's Open Inference Protocol (V2, REST) beside /v1: server and model metadata, health and
// readiness, and infer with JSON or binary tensor data. The tensors become /v1's rows
// (infer-request.ts) and are scored through the same ModelService call.
import type Router from "@koa/router";
import type { Context } from "koa";
import type { Artifact } from "../../artifact/artifact.js";
import type { ModelService } from "../../model/model-service.js";
import { notReady, RequestError } from "../../request-error.js";
import { readRequestBody } from "../../router/request-body.js";
import type { AppDeps } from "../app.js";
import { isReady } from "../operational-routes.js";
import { requireExplanations, validatorsFor } from "../scoring-routes.js";
import { inferAnswer } from "./infer-answer.js";
import { readInferRequest } from "./infer-request.js";
import { modelMetadata } from "./model-metadata.js";

/** The request and response header of the binary tensor data extension. */
export const HEADER_LENGTH = "inference-header-content-length";

/** GET /v2: who answers, and the protocol extensions it speaks. */
export const SERVER_METADATA = {
  name: "churn-runtime",
  version: "2",
  extensions: ["binary_tensor_data"],
} as const;

const MODEL = "/v2/models/:name";
const VERSION = "/v2/models/:name/versions/:version";

/** The served artifact when the URL names it (and its version, if given); 404 otherwise. */
function namedModel(ctx: Context, model: ModelService): Artifact {
  const artifact = model.artifact;
  if (!artifact) throw notReady(model.reason);
  const { name, version } = ctx.params as { name: string; version?: string };
  if (name !== artifact.card.name) {
    throw new RequestError(
      404,
      "unknown_model",
      `unknown model ${JSON.stringify(name)}; this server serves ${JSON.stringify(artifact.card.name)}`,
    );
  }
  if (version !== undefined && version !== artifact.digest) {
    throw new RequestError(
      404,
      "unknown_version",
      `unknown version ${JSON.stringify(version)} of ${name}; the served version is ${artifact.digest}`,
    );
  }
  return artifact;
}

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

/** Reads the body whole under the size limit (413 above it, and the connection is closed). */
async function readBody(ctx: Context, limit: number): Promise<Buffer> {
  try {
    return await readRequestBody(ctx.req, limit);
  } catch (err) {
    if (err instanceof RequestError && err.status === 413) ctx.set("connection", "close");
    throw err;
  }
}

/** Adds the /v2 routes to `router`. */
export function addV2Routes(router: Router, deps: AppDeps): void {
  const { model, limits } = deps;
  const validators = validatorsFor(model, limits);

  router.get("/v2", (ctx) => {
    ctx.body = SERVER_METADATA;
  });
  router.get("/v2/health/live", (ctx) => {
    ctx.body = { live: true };
  });
  router.get("/v2/health/ready", (ctx) => {
    const ready = isReady(model);
    ctx.status = ready ? 200 : 503;
    ctx.body = { ready };
  });
  for (const base of [MODEL, VERSION]) {
    router.get(base, (ctx) => {
      const artifact = namedModel(ctx, model);
      ctx.body = modelMetadata(artifact.card, artifact.digest, validators().shape);
    });
    router.get(`${base}/ready`, (ctx) => {
      const artifact = namedModel(ctx, model);
      const ready = isReady(model);
      ctx.status = ready ? 200 : 503;
      ctx.body = { name: artifact.card.name, ready };
    });
    router.post(`${base}/infer`, async (ctx) => {
      const artifact = namedModel(ctx, model);
      const { shape, instance } = validators();
      const { json, binary } = splitBody(ctx, await readBody(ctx, limits.maxBodyBytes));
      const plan = readInferRequest(json, binary, {
        fields: shape.fields,
        instance,
        maxRows: limits.maxBatch,
        maxExplainRows: limits.maxExplainRows,
      });
      if (plan.explain) requireExplanations(limits);
      const predictions = await model.predict(plan.rows, plan.explain, "v2_infer");
      const answer = inferAnswer(plan, predictions, artifact.card, artifact.digest);
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
