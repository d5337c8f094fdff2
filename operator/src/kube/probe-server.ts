import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/** A named check run by /readyz or /healthz; it returns an error message, or undefined when fine. */
export type HealthCheck = () => string | undefined;

/** What the probe server answers for. */
export interface ProbeServerOptions {
  host: string;
  port: number;
  healthz: Record<string, HealthCheck>;
  readyz: Record<string, HealthCheck>;
  /** Serves /metrics from this registry when given. */
  registry?: Registry;
}

/**
 * Serves /healthz, /readyz (plain "ok" or the failing checks, 500) and optionally /metrics.
 * The operator runs two: health probes and metrics on separate ports, as kubebuilder does.
 */
export class ProbeServer {
  private readonly server: http.Server;

  constructor(private readonly opts: ProbeServerOptions) {
    this.server = http.createServer((req, res) => {
      void this.handle(req, res);
    });
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops accepting connections and closes idle ones. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET") return send(res, 405, "method not allowed\n");
    if (path === "/healthz" || path === "/readyz") {
      const checks = path === "/healthz" ? this.opts.healthz : this.opts.readyz;
      const failures = Object.entries(checks).flatMap(([name, check]) => {
        const problem = check();
        return problem === undefined ? [] : [`[-]${name} failed: ${problem}`];
      });
      return failures.length
        ? send(res, 500, `${failures.join("\n")}\n${path.slice(1)} check failed\n`)
        : send(res, 200, "ok");
    }
    if (path === "/metrics" && this.opts.registry) {
      const body = await this.opts.registry.metrics();
      res.setHeader("Content-Type", this.opts.registry.contentType);
      return send(res, 200, body);
    }
    return send(res, 404, "not found\n");
  }
}

function send(res: http.ServerResponse, code: number, body: string): void {
  res.statusCode = code;
  if (!res.hasHeader("Content-Type")) res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.end(body);
}
