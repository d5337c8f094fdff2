import type { V1Probe } from "@kubernetes/client-node";

/**
 * The probes of a `churn-runtime` container (serve or route) on its `http` port: ready when
 * /readyz says so (a model passed its self-check, or the router has its weights), alive while
 * /healthz answers, and for `serve` a startup allowance while the model loads.
 */
export function runtimeProbes(opts: { startup: boolean }): {
  readinessProbe: V1Probe;
  livenessProbe: V1Probe;
  startupProbe?: V1Probe;
} {
  return {
    readinessProbe: {
      httpGet: { path: "/readyz", port: "http" },
      periodSeconds: 2,
      failureThreshold: 3,
    },
    livenessProbe: {
      httpGet: { path: "/healthz", port: "http" },
      periodSeconds: 10,
      failureThreshold: 3,
    },
    ...(opts.startup
      ? {
          startupProbe: {
            httpGet: { path: "/healthz", port: "http" },
            periodSeconds: 2,
            failureThreshold: 60,
          },
        }
      : {}),
  };
}
