// Sending a request to a variant's Service over kept-alive connections. One agent per origin;
// agents of origins the configuration no longer names are dropped from the pool (requests
// still using one keep it alive until they finish, and idle sockets close on the server's
// keep-alive hint).
import http, {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from "node:http";
import https from "node:https";

/** Connection failures that happen before any response: the request never reached a handler. */
const NEVER_ANSWERED = new Set(["ECONNREFUSED", "ENOTFOUND", "ECONNRESET"]);

/** A failed upstream call. */
export class UpstreamError extends Error {
  override readonly name = "UpstreamError";
  constructor(
    message: string,
    /** The system error code (ECONNREFUSED, ETIMEDOUT, ...), when there is one. */
    readonly code: string | undefined,
    /** True when no response had begun, so sending the request elsewhere is safe. */
    readonly beforeResponse: boolean,
  ) {
    super(message);
  }

  /** Whether another upstream may take the request (the connection never got an answer). */
  get retryable(): boolean {
    return this.beforeResponse && this.code !== undefined && NEVER_ANSWERED.has(this.code);
  }
}

// Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection and are never forwarded.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Copies headers except hop-by-hop ones, those the Connection header names, and `drop`. */
export function endToEndHeaders(
  headers: IncomingHttpHeaders,
  drop: ReadonlySet<string> = new Set(),
): OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name) || drop.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** A request to forward: the body is already read (it may be sent twice). */
export interface UpstreamRequest {
  method: string;
  /** Path and query, as received. */
  path: string;
  headers: OutgoingHttpHeaders;
  body: Buffer;
  /** Aborts the call (the caller went away). */
  signal?: AbortSignal;
}

/** Where one upstream URL points, parsed once. */
interface Target {
  secure: boolean;
  hostname: string;
  port: number;
  host: string;
  origin: string;
  /** The URL's path, prefixed to every forwarded path. */
  prefix: string;
}

/** Kept-alive agents per upstream origin. */
export class Upstreams {
  private readonly agents = new Map<string, http.Agent>();
  private readonly targets = new Map<string, Target>();

  constructor(
    /** Called for each request sent again after a reused connection was found closed. */
    private readonly onRetry: () => void = () => {},
    private readonly timeoutMs = 120_000,
  ) {}

  /** Drops the agents of origins not in `urls` from the pool. */
  retain(urls: string[]): void {
    const keep = new Set(urls.map((u) => new URL(u).origin));
    for (const origin of [...this.agents.keys()]) {
      if (!keep.has(origin)) this.agents.delete(origin);
    }
    for (const [base, target] of [...this.targets]) {
      if (!keep.has(target.origin)) this.targets.delete(base);
    }
  }

  /** Closes every pooled connection (at shutdown, after in-flight requests finished). */
  destroy(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  /**
   * Sends a request to `base` (a variant's URL); resolves once the response headers arrived.
   * A kept-alive connection the server closed just as it was reused (ECONNRESET before any
   * answer: the server never read the request) is retried once on a new connection, as Node's
   * documentation advises for idempotent requests; scoring is. Without that, every pod that
   * shuts down or idles out a connection under load would cost a caller a 502.
   */
  send(base: string, req: UpstreamRequest): Promise<IncomingMessage> {
    const target = this.targetOf(base);
    return this.attempt(target, req, true);
  }

  private attempt(
    target: Target,
    req: UpstreamRequest,
    mayRetry: boolean,
  ): Promise<IncomingMessage> {
    const agent = this.agentFor(target);
    return new Promise((resolve, reject) => {
      let answered = false;
      const out = (target.secure ? https : http).request(
        {
          agent,
          method: req.method,
          hostname: target.hostname,
          port: target.port,
          path: `${target.prefix}${req.path}`,
          headers: { ...req.headers, host: target.host, "content-length": req.body.length },
          timeout: this.timeoutMs,
          signal: req.signal,
        },
        (res) => {
          answered = true;
          resolve(res);
        },
      );
      out.on("timeout", () => {
        const err = new Error(`no answer within ${this.timeoutMs} ms`) as NodeJS.ErrnoException;
        err.code = "ETIMEDOUT";
        out.destroy(err);
      });
      out.on("error", (err: NodeJS.ErrnoException) => {
        if (answered) return;
        if (mayRetry && out.reusedSocket && err.code === "ECONNRESET" && !req.signal?.aborted) {
          this.onRetry();
          resolve(this.attempt(target, req, false));
          return;
        }
        reject(
          new UpstreamError(
            `${target.origin}: ${err.code ?? err.name}: ${err.message}`,
            err.code,
            true,
          ),
        );
      });
      out.end(req.body);
    });
  }

  private targetOf(base: string): Target {
    let target = this.targets.get(base);
    if (!target) {
      const url = new URL(base);
      const secure = url.protocol === "https:";
      target = {
        secure,
        hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: Number(url.port) || (secure ? 443 : 80),
        host: url.host,
        origin: url.origin,
        prefix: url.pathname.replace(/\/$/, ""),
      };
      this.targets.set(base, target);
    }
    return target;
  }

  private agentFor(target: Target): http.Agent {
    let agent = this.agents.get(target.origin);
    if (!agent) {
      // No socket cap: the serving pods' own concurrency, not the router, limits load.
      agent = target.secure
        ? new https.Agent({ keepAlive: true, scheduling: "lifo" })
        : new http.Agent({ keepAlive: true, scheduling: "lifo" });
      this.agents.set(target.origin, agent);
    }
    return agent;
  }
}
