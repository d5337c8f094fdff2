// The router's gRPC front: the Open Inference Protocol's unary calls (ServerLive, ServerReady,
// ModelReady, ServerMetadata, ModelMetadata, ModelInfer) forwarded to the stable or the canary
// version's gRPC endpoint (traffic.json's `grpcTarget`) by the same weight and sticky assignment
// as the HTTP front (variant-assignment.ts), with the same fallback (a canary that cannot be
// reached: the stable answers) and counted in the same per-variant metrics. Messages pass
// through as bytes; only a ModelInfer request is decoded, and only while a canary has a share,
// to read its customer id. Mirroring is HTTP only. A `dns:` target (the operator writes the
// version's headless Service) is balanced call by call over every address it resolves to, and
// looked up again every few seconds (dns-poll-resolver.ts), so every ready pod of a version
// answers a share, however many router pods there are.
import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { bindInsecure, httpStatusOf, loadInferenceService, statusOf } from "../grpc/grpc-server.js";
import type { InferRequestMessage } from "../grpc/infer-messages.js";
import type { InflightTracker } from "../http/inflight-tracker.js";
import type { Logger } from "../logger.js";
import { RequestError } from "../request-error.js";
import { pollingTarget } from "./dns-poll-resolver.js";
import { grpcStickyKeyOf } from "./grpc-sticky-key.js";
import { DIGEST_HEADER, forcedVariant, VARIANT_HEADER } from "./router-app.js";
import type { AnsweredBy, RouterMetrics } from "./router-metrics.js";
import type { TrafficConfig } from "./traffic-config.js";
import type { TrafficState } from "./traffic-state.js";
import { assignVariant, BucketSequence, type Variant } from "./variant-assignment.js";

/** What the gRPC front needs from the router. */
export interface GrpcRouterDeps {
  traffic: TrafficState;
  metrics: RouterMetrics;
  logger: Logger;
  inflight?: InflightTracker;
  maxMessageBytes: number;
}

/** A listening gRPC front. */
export interface RunningGrpcRouter {
  port: number;
  /** Forgets the channels of targets `targets` does not name (after a configuration change). */
  retain(targets: string[]): void;
  /** Stops accepting calls and waits (at most graceMs) for those in flight; then closes the upstream channels. */
  close(graceMs?: number): Promise<void>;
}

/** Metadata set per hop or meant for the router: never forwarded. */
const NOT_FORWARDED = new Set(["user-agent", "content-type", "te", "host", VARIANT_HEADER]);

const passBytes = (b: Buffer) => b;

const ROUND_ROBIN = JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] });

/** A call as it is sent upstream. */
interface Outgoing {
  path: string;
  request: Buffer;
  metadata: grpc.Metadata;
  deadline: grpc.Deadline;
  requestId: string;
}

type Answer = { error: grpc.ServiceError | null; value?: Buffer; variant: Variant };

/** The gRPC endpoint of a variant under a configuration, when it has one. */
export function grpcTargetOf(config: TrafficConfig, variant: Variant): string | undefined {
  return variant === "canary" ? config.canary?.grpcTarget : config.stable.grpcTarget;
}

/** Serves the router's gRPC front on `host:port` (0: any free port). */
export async function startGrpcRouter(
  deps: GrpcRouterDeps,
  host: string,
  port: number,
): Promise<RunningGrpcRouter> {
  const { traffic, metrics, logger } = deps;
  const service = loadInferenceService().service;
  const decodeInfer = service.ModelInfer?.requestDeserialize as (b: Buffer) => InferRequestMessage;
  const keyless = new BucketSequence();
  const channels = new Map<string, grpc.Client>();
  const channelTo = (target: string): grpc.Client => {
    let client = channels.get(target);
    if (!client) {
      client = new grpc.Client(pollingTarget(target), grpc.credentials.createInsecure(), {
        "grpc.max_receive_message_length": -1,
        "grpc.max_send_message_length": -1,
        // Each call to the next ready address the target resolves to (a version's pods, by
        // its headless Service), not every call on the first one that connected.
        "grpc.service_config": ROUND_ROBIN,
        // The service config is ours: no TXT lookups for one.
        "grpc.service_config_disable_resolution": 1,
      });
      channels.set(target, client);
    }
    return client;
  };

  /** One forwarded call to a variant's endpoint. */
  const forward = (config: TrafficConfig, variant: Variant, out: Outgoing) =>
    new Promise<Answer>((resolve) => {
      const target = grpcTargetOf(config, variant);
      if (!target) {
        const details = `the ${variant} version has no gRPC endpoint (its ChurnModel has gRPC off)`;
        resolve({
          error: { code: grpc.status.UNAVAILABLE, details } as grpc.ServiceError,
          variant,
        });
        return;
      }
      const { path, request, metadata, deadline } = out;
      channelTo(target).makeUnaryRequest(
        path,
        passBytes,
        passBytes,
        request,
        metadata,
        { deadline },
        (error, value) => resolve({ error, value, variant }),
      );
    });

  /** Sends to the variant; a canary that is unavailable falls back to the stable. */
  const send = async (config: TrafficConfig, variant: Variant, out: Outgoing): Promise<Answer> => {
    const first = await forward(config, variant, out);
    if (variant !== "canary" || first.error?.code !== grpc.status.UNAVAILABLE) return first;
    metrics.fallbacks.inc();
    logger.warn("canary unavailable over gRPC; the stable answers", {
      requestId: out.requestId,
      canary: config.canary?.grpcTarget,
      error: first.error.details,
    });
    return forward(config, "stable", out);
  };

  /** Assigns the call a variant and forwards it there. */
  const route = async (
    method: string,
    path: string,
    call: grpc.ServerUnaryCall<Buffer, Buffer>,
    requestId: string,
  ): Promise<Answer & { digest: string }> => {
    // One configuration for the whole call, even if a new one arrives meanwhile.
    const config = traffic.config;
    if (!traffic.ready || !config) {
      throw new RequestError(503, "not_ready", `router not ready: ${traffic.notReadyReason}`);
    }
    const header = (name: string) => header0(call.metadata, name);
    const keyOf = () =>
      (config.stickyHeader ? header(config.stickyHeader) : undefined) ??
      (method === "ModelInfer"
        ? grpcStickyKeyOf(decodeInfer(call.request), traffic.idColumns.idColumn)
        : undefined);
    const variant =
      forcedVariant(header(VARIANT_HEADER), config) ?? assignVariant(config, keyOf, keyless);
    const answer = await send(config, variant, {
      path,
      request: call.request,
      metadata: forwardedMetadata(call.metadata, requestId),
      deadline: call.getDeadline(),
      requestId,
    });
    const digest = answer.variant === "canary" ? config.canary?.digest : config.stable.digest;
    return { ...answer, digest: digest ?? "" };
  };

  /** Counts and logs a finished call under the variant that answered. */
  const observe = (
    path: string,
    requestId: string,
    start: bigint,
    variant: AnsweredBy,
    code: grpc.status,
  ) => {
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    metrics.requests.inc({ variant, code: String(httpStatusOf(code)) });
    metrics.requestDuration.observe({ variant }, seconds);
    if (logger.enabled("info")) {
      const durationMs = Math.round(seconds * 1e5) / 100;
      const status = grpc.status[code];
      logger.info("request", { requestId, method: "GRPC", path, variant, status, durationMs });
    }
  };

  const handler =
    (method: string, path: string) =>
    async (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const start = process.hrtime.bigint();
      deps.inflight?.enter();
      metrics.inFlight.inc();
      const requestId = header0(call.metadata, "x-request-id") ?? randomUUID();
      let variant: AnsweredBy = "none";
      let code: grpc.status = grpc.status.INTERNAL;
      try {
        const answer = await route(method, path, call, requestId);
        variant = answer.variant;
        const meta = new grpc.Metadata();
        meta.set(VARIANT_HEADER, answer.variant);
        meta.set(DIGEST_HEADER, answer.digest);
        meta.set("x-request-id", requestId);
        call.sendMetadata(meta);
        code = answer.error?.code ?? grpc.status.OK;
        if (answer.error) callback(answer.error);
        else callback(null, answer.value);
      } catch (err) {
        const status = statusOf(err, logger);
        code = status.code;
        callback(status);
      } finally {
        deps.inflight?.leave();
        metrics.inFlight.dec();
        observe(path, requestId, start, variant, code);
      }
    };

  const passthrough: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const [method, definition] of Object.entries(service)) {
    passthrough[method] = {
      ...(definition as grpc.MethodDefinition<unknown, unknown>),
      requestSerialize: passBytes,
      requestDeserialize: passBytes,
      responseSerialize: passBytes,
      responseDeserialize: passBytes,
    };
    handlers[method] = handler(method, definition.path);
  }
  const server = new grpc.Server({
    "grpc.max_receive_message_length": deps.maxMessageBytes,
    "grpc.max_send_message_length": -1,
  });
  server.addService(passthrough, handlers);
  const bound = await bindInsecure(server, host, port);
  return {
    port: bound,
    retain(targets) {
      const keep = new Set(targets);
      for (const [target, client] of [...channels]) {
        if (keep.has(target)) continue;
        channels.delete(target);
        // Calls already on the channel finish; it closes when they have.
        client.close();
      }
    },
    close: (graceMs = 30_000) =>
      new Promise<void>((resolve) => {
        // Calls in flight finish; a client that keeps its connection open past the grace
        // period is cut off rather than holding the process.
        const force = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          for (const client of channels.values()) client.close();
          channels.clear();
          resolve();
        });
      }),
  };
}

/** A metadata key's first value as text, when it has a non-empty one. */
function header0(metadata: grpc.Metadata, key: string): string | undefined {
  return String(metadata.get(key)[0] ?? "") || undefined;
}

/** The caller's metadata for the upstream: its own keys (not gRPC's or the router's), and the id. */
function forwardedMetadata(incoming: grpc.Metadata, requestId: string): grpc.Metadata {
  const out = new grpc.Metadata();
  for (const [key, values] of Object.entries(incoming.getMap())) {
    if (key.startsWith("grpc-") || key.startsWith(":") || NOT_FORWARDED.has(key)) continue;
    out.set(key, values);
  }
  out.set("x-request-id", requestId);
  return out;
}
