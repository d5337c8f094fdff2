// Process entry for `churn-runtime route`: pick the traffic source, start the router, stop it
// gracefully on SIGTERM/SIGINT.
import { KubeConfig } from "@kubernetes/client-node";
import { runUntilSignal } from "../http/run-until-signal.js";
import { createLogger, type Logger } from "../logger.js";
import { ConfigMapTrafficSource } from "./config-map-traffic-source.js";
import { FileTrafficSource } from "./file-traffic-source.js";
import type { RouteConfig } from "./route-config.js";
import { type RunningRouter, startRouter } from "./router-server.js";
import type { TrafficSource } from "./traffic-source.js";

/** The source the settings name: the ConfigMap (in-cluster credentials) or the local file. */
export function trafficSourceFor(config: RouteConfig, logger: Logger): TrafficSource {
  if (config.trafficFile !== undefined) return new FileTrafficSource(config.trafficFile, logger);
  const kubeConfig = new KubeConfig();
  // In a pod: the ServiceAccount's token and the cluster's CA; elsewhere $KUBECONFIG or ~/.kube.
  kubeConfig.loadFromDefault();
  return new ConfigMapTrafficSource(
    kubeConfig,
    config.namespace as string,
    config.trafficConfigMap as string,
    logger,
  );
}

/** Runs the router until a termination signal; resolves with the process exit code. */
export async function routeMain(config: RouteConfig): Promise<number> {
  const logger = createLogger(config.logLevel, undefined, {}, "churn-router");
  let running: RunningRouter;
  try {
    running = await startRouter(config, trafficSourceFor(config, logger), logger);
  } catch (err) {
    logger.error("cannot start", { error: err instanceof Error ? err.message : String(err) });
    return 1;
  }
  return runUntilSignal(running, logger);
}
