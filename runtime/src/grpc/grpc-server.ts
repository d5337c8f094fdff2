// The Open Inference Protocol over gRPC (the protocol's own grpc_predict_v2.proto, loaded at
// start from runtime/proto/): the same V2Inference the REST routes call, on a port of its own.
// Refusals carry the REST status's gRPC code and the same message.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { AppDeps } from "../http/app.js";
import { SERVER_METADATA, V2Inference } from "../http/v2/v2-inference.js";
import { V2_MODEL_ROUTE, V2_VERSION_ROUTE } from "../http/v2/v2-routes.js";
import type { Logger } from "../logger.js";
import { RequestError } from "../request-error.js";
import { type InferRequestMessage, responseOf, restFormOf } from "./infer-messages.js";

/** The vendored .proto: beside the sources, or (from dist/) in the package's runtime/proto. */
function protoPath(): string {
  const candidates = ["../../proto/", "../../../../runtime/proto/"].map((dir) =>
    fileURLToPath(new URL(`${dir}grpc_predict_v2.proto`, import.meta.url)),
  );
  const found = candidates.find((p) => existsSync(p));
  if (!found)
    throw new Error(`grpc_predict_v2.proto not found (looked in ${candidates.join(", ")})`);
  return found;
}

/** The protocol's service definition (its client constructor, for callers and tests). */
export function loadInferenceService(): grpc.ServiceClientConstructor {
  const definition = protoLoader.loadSync(protoPath(), {
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition).inference as {
    GRPCInferenceService: grpc.ServiceClientConstructor;
  };
  return loaded.GRPCInferenceService;
}

/** HTTP statuses of RequestError as gRPC codes. */
const CODES: Record<number, grpc.status> = {
  400: grpc.status.INVALID_ARGUMENT,
  403: grpc.status.PERMISSION_DENIED,
  404: grpc.status.NOT_FOUND,
  409: grpc.status.FAILED_PRECONDITION,
  413: grpc.status.RESOURCE_EXHAUSTED,
  503: grpc.status.UNAVAILABLE,
};

/**
 * A gRPC status as the HTTP status metrics count it under: the inverse of the table above, and
 * gRPC's own HTTP mapping for the codes the runtime never sends.
 */
export function httpStatusOf(code: grpc.status): number {
  if (code === grpc.status.OK) return 200;
  const ours = Object.entries(CODES).find(([, c]) => c === code);
  if (ours) return Number(ours[0]);
  const others: Partial<Record<grpc.status, number>> = {
    [grpc.status.CANCELLED]: 499,
    [grpc.status.UNAUTHENTICATED]: 401,
    [grpc.status.UNIMPLEMENTED]: 501,
    [grpc.status.DEADLINE_EXCEEDED]: 504,
  };
  return others[code] ?? 500;
}

type Call<T> = { request: T };
type Callback = (err: grpc.ServiceError | null, value?: unknown) => void;

/** A thrown error as a gRPC status: a RequestError's code and message, else INTERNAL (logged). */
export function statusOf(err: unknown, logger: Logger): grpc.ServiceError {
  if (err instanceof RequestError) {
    const fallback = err.status < 500 ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL;
    return { code: CODES[err.status] ?? fallback, details: err.message } as grpc.ServiceError;
  }
  const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
  logger.error("grpc call failed", { error });
  const details = "internal error; see the server log";
  return { code: grpc.status.INTERNAL, details } as grpc.ServiceError;
}

type Named = { name: string; version?: string };
type Routed = { name?: string; model_name?: string; version?: string; model_version?: string };

/** The REST route (template) of each gRPC method; model routes under the model's base. */
const ROUTES: Record<string, (base: string) => string> = {
  ServerLive: () => "/v2/health/live",
  ServerReady: () => "/v2/health/ready",
  ServerMetadata: () => "/v2",
  ModelMetadata: (base) => base,
  ModelReady: (base) => `${base}/ready`,
  ModelInfer: (base) => `${base}/infer`,
};

/**
 * The REST route template a gRPC call is counted under in http_requests_total and
 * http_request_duration_seconds (method "GRPC"): canary analysis and the autoscaler read the
 * scoring routes there, and gRPC traffic must weigh in as REST traffic does.
 */
export function routeOfCall(method: string, request: Routed): string {
  const version = request.version || request.model_version;
  const base = version ? V2_VERSION_ROUTE : V2_MODEL_ROUTE;
  return ROUTES[method]?.(base) ?? "unmatched";
}

/** A unary handler: its answer, or what it threw as a gRPC status; counted and timed. */
function unary<T>(
  deps: Pick<AppDeps, "logger" | "metrics">,
  method: string,
  handle: (request: T) => unknown,
) {
  return async (call: Call<T>, callback: Callback): Promise<void> => {
    const start = process.hrtime.bigint();
    let code: grpc.status = grpc.status.OK;
    try {
      const answer = await handle(call.request);
      callback(null, answer);
    } catch (err) {
      const status = statusOf(err, deps.logger);
      code = status.code;
      callback(status);
    } finally {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const route = routeOfCall(method, (call.request ?? {}) as Routed);
      const labels = { method: "GRPC", route, code: String(httpStatusOf(code)) };
      deps.metrics.requestDuration.observe(labels, seconds);
      deps.metrics.requests.inc(labels);
    }
  };
}

/** A listening gRPC server. */
export interface RunningGrpc {
  port: number;
  close(): Promise<void>;
}

/** Serves the protocol's gRPC service on `host:port` (port 0: any free port). */
export async function startGrpc(
  deps: Pick<AppDeps, "model" | "limits" | "logger" | "metrics">,
  host: string,
  port: number,
): Promise<RunningGrpc> {
  const inference = loadInferenceService();
  const v2 = new V2Inference(deps);
  const u = <T>(method: string, f: (r: T) => unknown) => unary<T>(deps, method, f);
  const server = new grpc.Server({
    "grpc.max_receive_message_length": deps.limits.maxBodyBytes,
    "grpc.max_send_message_length": -1,
  });
  server.addService(inference.service, {
    ServerLive: u("ServerLive", () => ({ live: true })),
    ServerReady: u("ServerReady", () => ({ ready: v2.ready })),
    ModelReady: u("ModelReady", (r: Named) => {
      v2.artifact(r.name, r.version);
      return { ready: v2.ready };
    }),
    ServerMetadata: u("ServerMetadata", () => SERVER_METADATA),
    ModelMetadata: u("ModelMetadata", (r: Named) => v2.metadata(r.name, r.version)),
    ModelInfer: u("ModelInfer", async (r: InferRequestMessage) => {
      const { json, binary } = restFormOf(r);
      return responseOf(await v2.infer(r.model_name, r.model_version, json, binary, true));
    }),
  });
  const bound = await bindInsecure(server, host, port);
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        // In-flight calls finish; the HTTP side's grace period bounds the whole stop.
        server.tryShutdown(() => resolve());
      }),
  };
}

/** Binds a server without TLS (plaintext inside the cluster) and returns the port it got. */
export function bindInsecure(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
}
