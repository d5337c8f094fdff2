// `churn-runtime route` settings: like `serve`'s (config.ts), each a flag or an environment
// variable with one default, validated with a message naming both. The settings the two modes
// share (port, host, body limit, grace, log level) are `serve`'s own entries, not copies.
import { z } from "zod";
import { ConfigError, issueMessages, mergeSettings, SETTINGS } from "../config.js";
import { LOG_LEVELS } from "../logger.js";

/** Validated router settings. */
export interface RouteConfig {
  /** Kubernetes mode: the namespace and name of the traffic ConfigMap. */
  namespace: string | undefined;
  trafficConfigMap: string | undefined;
  /** File mode: a local traffic.json, watched. */
  trafficFile: string | undefined;
  port: number;
  /** The gRPC front's port; undefined: HTTP only. */
  grpcPort: number | undefined;
  host: string;
  maxBodyBytes: number;
  shutdownGraceSeconds: number;
  shutdownDelaySeconds: number;
  logLevel: (typeof LOG_LEVELS)[number];
}

/** Each router setting's flag, environment variable and default. */
export const ROUTE_SETTINGS = {
  namespace: { flag: "namespace", env: "CHURN_ROUTER_NAMESPACE", default: undefined },
  trafficConfigMap: {
    flag: "traffic-config-map",
    env: "CHURN_TRAFFIC_CONFIG_MAP",
    default: undefined,
  },
  trafficFile: { flag: "traffic-file", env: "CHURN_TRAFFIC_FILE", default: undefined },
  port: SETTINGS.port,
  grpcPort: SETTINGS.grpcPort,
  host: SETTINGS.host,
  maxBodyBytes: SETTINGS.maxBodyBytes,
  shutdownGraceSeconds: SETTINGS.shutdownGraceSeconds,
  shutdownDelaySeconds: SETTINGS.shutdownDelaySeconds,
  logLevel: SETTINGS.logLevel,
} as const;

export type RouteSettingName = keyof typeof ROUTE_SETTINGS;

// A Kubernetes object name (DNS-1123 subdomain) and namespace (DNS-1123 label).
const dnsSubdomain = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
    error: "must be a Kubernetes object name",
  });
const dnsLabel = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: "must be a Kubernetes namespace name" });

const routeSchema = z.object({
  namespace: dnsLabel.optional(),
  trafficConfigMap: dnsSubdomain.optional(),
  trafficFile: z.string().min(1).optional(),
  port: z.coerce.number().int().min(0).max(65535),
  grpcPort: z.coerce.number().int().min(0).max(65535).optional(),
  host: z.string().min(1),
  maxBodyBytes: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024),
  shutdownGraceSeconds: z.coerce.number().min(0).max(3600),
  shutdownDelaySeconds: z.coerce.number().min(0).max(300),
  logLevel: z.enum(LOG_LEVELS),
});

const named = (name: RouteSettingName) =>
  `--${ROUTE_SETTINGS[name].flag} (${ROUTE_SETTINGS[name].env})`;

/** Merges flags over environment variables over defaults, and validates the result. */
export function resolveRouteConfig(
  flags: Partial<Record<RouteSettingName, string | number | undefined>>,
  env: NodeJS.ProcessEnv = process.env,
): RouteConfig {
  // As for `serve`: loopback off-cluster, all interfaces inside a pod.
  const parsed = routeSchema.safeParse(mergeSettings(ROUTE_SETTINGS, flags, env));
  const problems = parsed.success
    ? trafficSourceProblems(parsed.data)
    : issueMessages(ROUTE_SETTINGS, parsed.error);
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems.join("; "));
  return {
    ...parsed.data,
    namespace: parsed.data.namespace,
    trafficConfigMap: parsed.data.trafficConfigMap,
    trafficFile: parsed.data.trafficFile,
    grpcPort: parsed.data.grpcPort,
  };
}

/** Exactly one traffic source, and the namespace a ConfigMap needs. */
function trafficSourceProblems(c: {
  namespace?: string;
  trafficConfigMap?: string;
  trafficFile?: string;
}): string[] {
  const map = c.trafficConfigMap !== undefined;
  const file = c.trafficFile !== undefined;
  if (map && file)
    return [`give either ${named("trafficConfigMap")} or ${named("trafficFile")}, not both`];
  if (!map && !file) return [`${named("trafficConfigMap")} or ${named("trafficFile")} is required`];
  if (map && c.namespace === undefined)
    return [`${named("namespace")} is required with ${named("trafficConfigMap")}`];
  return [];
}
