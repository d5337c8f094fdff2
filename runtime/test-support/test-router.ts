// A router for tests: loopback, any free port, following a traffic file, no process metrics.

import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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

/**
 * Writes `traffic` (traffic.json's text) to a new file in `dir`, atomically, starts a router
 * following it and waits until the router is ready.
 */
export async function startReadyTestRouter(
  dir: string,
  traffic: string,
  logger: Logger,
  settings: Partial<RouterServerSettings> = {},
): Promise<RunningRouter> {
  const path = join(dir, `traffic-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(`${path}.tmp`, traffic);
  renameSync(`${path}.tmp`, path);
  const r = await startTestRouter(path, logger, settings);
  const deadline = Date.now() + 10_000;
  while ((await get(`${r.url}/readyz`)).status !== 200) {
    if (Date.now() > deadline) throw new Error("the router did not become ready");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return r;
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
