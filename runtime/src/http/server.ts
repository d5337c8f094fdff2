// Starts the HTTP server for one model directory and stops it gracefully: stop accepting,
// finish in-flight requests, then release the model.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type Artifact,
  ArtifactError,
  DigestMismatchError,
  loadArtifact,
} from "../artifact/artifact.js";
import type { RuntimeConfig } from "../config.js";
import { FeatureSource } from "../data/feature-source.js";
import type { RunningGrpc } from "../grpc/grpc-server.js";
import { importGrpc } from "../grpc/import-grpc.js";
import { createLogger, type Logger } from "../logger.js";
import { RuntimeMetrics } from "../metrics.js";
import { ModelService } from "../model/model-service.js";
import { buildApp } from "./app.js";
import { drainServer } from "./graceful-drain.js";
import { InflightTracker } from "./inflight-tracker.js";

/** A listening runtime. */
export interface RunningServer {
  server: Server;
  url: string;
  model: ModelService;
  /** The Open Inference Protocol's gRPC service, when a --grpc-port was given. */
  grpc: RunningGrpc | undefined;
  /** Settles when the model has loaded and its self-check ran (passed or not). */
  loaded: Promise<void>;
  /** Graceful stop: no new connections, in-flight requests finish (bounded by the grace period). */
  close(): Promise<void>;
}

/**
 * Reads the artifact and checks its digests, then listens at once (so /healthz answers and
 * /readyz explains while loading) and opens the model in the background. Rejects only for a
 * digest mismatch or an unusable feature source: those must stop the process.
 */
export async function startServer(
  config: RuntimeConfig,
  logger: Logger = createLogger(config.logLevel),
  options: { processMetrics?: boolean } = {},
): Promise<RunningServer> {
  const metrics = new RuntimeMetrics(options);
  const model = new ModelService(config, metrics, logger);
  // Reading and hashing the artifact is quick; only the session and self-check run after listening.
  let artifact: Artifact | undefined;
  try {
    artifact = await loadArtifact(config.modelDir, config.expectedDigest);
  } catch (err) {
    if (err instanceof DigestMismatchError) {
      throw new DigestMismatchError(`refusing to start: ${err.message}`);
    }
    model.fail(
      err instanceof ArtifactError ? err.message : `cannot load the model: ${String(err)}`,
    );
  }
  let features: FeatureSource | undefined;
  if (config.featuresFile && artifact) {
    features = await FeatureSource.load(config.featuresFile, artifact.card);
    logger.info("feature source loaded", { path: config.featuresFile, customers: features.size });
  }
  // Before listening: where gRPC cannot run, nothing starts (importGrpc says why).
  const grpcModule =
    config.grpcPort === undefined
      ? undefined
      : await importGrpc(() => import("../grpc/grpc-server.js"));
  const inflight = new InflightTracker();
  const app = buildApp({ model, metrics, logger, features, limits: config, inflight });
  const server = createServer(app.callback());
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info("listening", { url, modelDir: config.modelDir });
  const grpc =
    grpcModule && config.grpcPort !== undefined
      ? await grpcModule.startGrpc(
          { model, limits: config, logger, metrics },
          config.host,
          config.grpcPort,
        )
      : undefined;
  if (grpc) logger.info("grpc listening", { port: grpc.port });

  const loaded = artifact ? model.start(artifact) : Promise.resolve();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      // Readiness drops so endpoints stop routing here; requests already accepted still finish.
      model.draining = true;
      // Handlers whose client already hung up still run: finish them before releasing the model.
      await drainServer(server, {
        delaySeconds: config.shutdownDelaySeconds,
        graceSeconds: config.shutdownGraceSeconds,
        logger,
        idle: () => inflight.idle(),
      });
      await grpc?.close();
      await loaded;
      await model.close();
      logger.info("stopped");
    })();
    return closing;
  };
  return { server, url, grpc, model, loaded, close };
}
