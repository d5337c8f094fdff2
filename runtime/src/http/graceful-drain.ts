import type { Server } from "node:http";

/** Anything that logs like the runtime's logger. */
interface DrainLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** How a server drains. */
export interface DrainOptions {
  /** Seconds to keep accepting (unready) while Kubernetes updates the endpoints. */
  delaySeconds: number;
  /** Seconds in-flight requests get before remaining connections are closed. */
  graceSeconds: number;
  logger: DrainLogger;
  /** Resolves when the handlers still running (even for callers who hung up) are done. */
  idle(): Promise<void>;
}

/**
 * The graceful stop of `serve` and `route`, once the caller has made readiness fail: keep
 * answering for `delaySeconds` while the endpoints catch up, then stop accepting, close idle
 * keep-alive sockets (in-flight ones finish first), and wait for the work in flight, at most
 * `graceSeconds` before closing what remains.
 */
export async function drainServer(server: Server, o: DrainOptions): Promise<void> {
  await endpointsDelay(o.delaySeconds, o.logger);
  const drained = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const idleSweep = setInterval(() => server.closeIdleConnections(), 100);
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      o.logger.warn("grace period over; closing remaining connections");
      server.closeAllConnections();
      resolve();
    }, o.graceSeconds * 1000);
  });
  await Promise.race([drained.then(() => o.idle()), grace]);
  clearInterval(idleSweep);
  clearTimeout(timer);
}

/** Waits `seconds` (logging it) so load balancers stop sending before the listener closes. */
export async function endpointsDelay(seconds: number, logger: DrainLogger): Promise<void> {
  if (seconds <= 0) return;
  logger.info("unready; still answering while endpoints update", { seconds });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}
