// Starts the router's HTTP server and stops it gracefully: not Ready, stop accepting, finish
// in-flight requests (and mirrored copies), then close upstream connections.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { importGrpc } from "../grpc/import-grpc.js";
import { drainServer } from "../http/graceful-drain.js";
import { InflightTracker } from "../http/inflight-tracker.js";
import type { Logger } from "../logger.js";
import type { RunningGrpcRouter } from "./grpc-router.js";
import { IdColumnLearner } from "./id-column-learner.js";
import { Mirror } from "./mirror.js";
import { buildRouterApp } from "./router-app.js";
import { RouterMetrics } from "./router-metrics.js";
import type { TrafficSource } from "./traffic-source.js";
import { TrafficState } from "./traffic-state.js";
import { Upstreams } from "./upstream.js";

/** What the router's server needs to know. */
export interface RouterServerSettings {
  port: number;
  /** The gRPC front's port (0: any free one); undefined: no gRPC front. */
  grpcPort?: number | undefined;
  host: string;
  maxBodyBytes: number;
  shutdownGraceSeconds: number;
  /** Seconds to keep answering, unready, after SIGTERM (see serve's shutdownDelaySeconds). */
  shutdownDelaySeconds: number;
}

/** A listening router. */
export interface RunningRouter {
  server: Server;
  url: string;
  traffic: TrafficState;
  metrics: RouterMetrics;
  /** Where HTTP requests go: each variant's Service, or its pods. */
  upstreams: Upstreams;
  /** The gRPC front, when a gRPC port was given. */
  grpc: RunningGrpcRouter | undefined;
  /** Graceful stop: no new connections, in-flight requests finish (bounded by the grace period). */
  close(): Promise<void>;
}

/** Listens, then reads and follows the traffic configuration from `source`. */
export async function startRouter(
  settings: RouterServerSettings,
  source: TrafficSource,
  logger: Logger,
  options: { processMetrics?: boolean } = {},
): Promise<RunningRouter> {
  // Before anything starts: where gRPC cannot run, the router does not (importGrpc says why).
  const grpcModule =
    settings.grpcPort === undefined
      ? undefined
      : await importGrpc(() => import("./grpc-router.js"));
  const metrics = new RouterMetrics(options);
  const idColumns = new IdColumnLearner(logger);
  const traffic = new TrafficState(metrics, logger, idColumns);
  const upstreams = new Upstreams(() => metrics.upstreamRetries.inc());
  const mirror = new Mirror(upstreams, metrics, logger);
  const inflight = new InflightTracker();
  const app = buildRouterApp({
    traffic,
    metrics,
    logger,
    upstreams,
    mirror,
    inflight,
    maxBodyBytes: settings.maxBodyBytes,
  });
  let grpc: RunningGrpcRouter | undefined;
  // Reading starts before listening, so a source that cannot start stops the process at once.
  source.start({
    text(text, origin) {
      traffic.text(text, origin);
      const c = traffic.config;
      if (!c) return;
      const variants = c.canary ? [c.stable, c.canary] : [c.stable];
      upstreams.retain(variants);
      grpc?.retain(variants.flatMap((v) => (v.grpcTarget ? [v.grpcTarget] : [])));
    },
    missing(reason) {
      traffic.missing(reason);
    },
  });

  const server = createServer(app.callback());
  // Longer than the load balancers' and clients' idle timeouts, as for `serve`.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 120_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(settings.port, settings.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    if (grpcModule && settings.grpcPort !== undefined) {
      const grpcDeps = {
        traffic,
        metrics,
        logger,
        inflight,
        maxMessageBytes: settings.maxBodyBytes,
      };
      grpc = await grpcModule.startGrpcRouter(grpcDeps, settings.host, settings.grpcPort);
    }
  } catch (err) {
    server.close();
    await source.stop();
    idColumns.stop();
    throw err;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info("listening", {
    url,
    mode: "route",
    traffic: source.description,
    ...(grpc ? { grpcPort: grpc.port } : {}),
  });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      // Readiness drops so endpoints stop routing here; weight changes are still followed
      // while accepted requests finish.
      traffic.draining = true;
      await drainServer(server, {
        delaySeconds: settings.shutdownDelaySeconds,
        graceSeconds: settings.shutdownGraceSeconds,
        logger,
        idle: () => inflight.idle().then(() => mirror.idle()),
      });
      await grpc?.close(settings.shutdownGraceSeconds * 1000);
      await source.stop();
      idColumns.stop();
      upstreams.destroy();
      logger.info("stopped");
    })();
    return closing;
  };
  return { server, url, traffic, metrics, upstreams, grpc, close };
}
