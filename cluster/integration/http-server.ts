import type { V1Deployment, V1Service } from "@kubernetes/client-node";

/** Image the HTTP server runs in: on the process node it maps to the host's node binary. */
export const NODE_IMAGE = "node:22-alpine";

/**
 * A tiny HTTP server that answers with its pod's name and exits cleanly on SIGTERM (node as
 * PID 1 would otherwise ignore it until the grace period ends).
 */
const serverScript = [
  "const http = require('http');",
  "const server = http.createServer((req, res) => res.end(JSON.stringify({ pod: process.env.POD_NAME })));",
  "server.listen(8080);",
  "process.on('SIGTERM', () => server.close(() => process.exit(0)));",
].join(" ");

/** A Deployment of `replicas` HTTP servers labelled `app=<name>`, Ready when they answer. */
export function httpServerDeployment(name: string, replicas: number): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 5,
          containers: [
            {
              name: "server",
              image: NODE_IMAGE,
              command: ["node", "-e", serverScript],
              env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
              ports: [{ name: "http", containerPort: 8080 }],
              readinessProbe: { httpGet: { path: "/", port: "http" }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

/** A ClusterIP Service in front of {@link httpServerDeployment}. */
export function httpServerService(name: string): V1Service {
  return {
    metadata: { name },
    spec: { selector: { app: name }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
  };
}
