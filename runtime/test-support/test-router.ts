// A router for tests: loopback, any free port, following a traffic file, no process metrics.

import type { Logger } from "../src/logger.js";
import { FileTrafficSource } from "../src/router/file-traffic-source.js";
import {
  type RouterServerSettings,
  type RunningRouter,
  startRouter,
} from "../src/router/router-server.js";
import { get } from "./test-server.js";

/** Starts a router on 127.0.0.1 following the traffic file at `path`. */
export function startTestRouter(
  path: string,
  logger: Logger,
  settings: Partial<RouterServerSettings> = {},
): Promise<RunningRouter> {
  return startRouter(
    {
      port: 0,
      host: "127.0.0.1",
      maxBodyBytes: 4 * 1024 * 1024,
      shutdownGraceSeconds: 5,
      shutdownDelaySeconds: 0,
      ...settings,
    },
    new FileTrafficSource(path, logger),
    logger,
    { processMetrics: false },
  );
}

/** The value of the one sample of `name` with these labels on a /metrics page (0 if absent). */
export async function metric(url: string, name: string, labels: Record<string, string> = {}) {
  const page = (await get(`${url}/metrics`)).body as string;
  const line = page
    .split("\n")
    .find(
      (l) =>
        (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) &&
        Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
    );
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}
