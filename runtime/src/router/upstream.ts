// Sending a request to a variant: to one of its ready pods when the traffic file names them
// (`httpTarget`, its headless Service: pod-pool.ts picks the pod per request), else, or while
// none is known, to its ClusterIP Service; over kept-alive connections either way. Pools of
// variants the configuration no longer names are dropped (requests still using one keep its
// connections alive until they finish, and idle sockets close on the server's keep-alive hint).
import http, {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from "node:http";
import https from "node:https";
import { parseDnsTarget } from "./dns-poll.js";
import { keptAliveAgent, type Pod, PodPool } from "./pod-pool.js";

/** Connection failures that happen before any response: the request never reached a handler. */
const NEVER_ANSWERED = new Set(["ECONNREFUSED", "ENOTFOUND", "ECONNRESET"]);

/**
 * Why a request that failed before any answer may be sent again, if it may: a kept-alive
 * connection the server closed as it was reused, or a pod the request never reached (another
 * pod, or the Service, takes it).
 */
function goAgain(
  err: NodeJS.ErrnoException,
  reusedSocket: boolean,
  pod: Pod | undefined,
): "reused closed" | "pod missed" | undefined {
  if (reusedSocket && err.code === "ECONNRESET") return "reused closed";
  if (pod && err.code !== undefined && NEVER_ANSWERED.has(err.code)) return "pod missed";
  return undefined;
}

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
  /** The URL as the configuration names it. */
  base: string;
}

/** Where a variant is reached: its Service's URL and, optionally, its pods' `dns:` name. */
export interface UpstreamEndpoint {
  url: string;
  httpTarget?: string | undefined;
}

/** Kept-alive agents per upstream origin, and a pod pool per variant that names its pods. */
export class Upstreams {
  private readonly agents = new Map<string, http.Agent>();
  private readonly targets = new Map<string, Target>();
  /** Per variant URL: its pods' target and their pool. */
  private readonly pools = new Map<string, { httpTarget: string; pool: PodPool }>();

  constructor(
    /** Called for each request sent again (a reused connection found closed, a pod refusing). */
    private readonly onRetry: () => void = () => {},
    private readonly timeoutMs = 120_000,
  ) {}

  /** Keeps the agents and pod pools of `endpoints`, drops the others from the pool. */
  retain(endpoints: UpstreamEndpoint[]): void {
    const keep = new Set(endpoints.map((e) => new URL(e.url).origin));
    for (const origin of [...this.agents.keys()]) {
      if (!keep.has(origin)) this.agents.delete(origin);
    }
    for (const [base, target] of [...this.targets]) {
      if (!keep.has(target.origin)) this.targets.delete(base);
    }
    const named = new Map(endpoints.flatMap((e) => (e.httpTarget ? [[e.url, e.httpTarget]] : [])));
    for (const [url, { httpTarget, pool }] of [...this.pools]) {
      if (named.get(url) === httpTarget) continue;
      pool.close();
      this.pools.delete(url);
    }
    for (const [url, httpTarget] of named) {
      const dns = parseDnsTarget(httpTarget);
      if (this.pools.has(url) || !dns) continue;
      const pool = new PodPool(dns, new URL(url).protocol === "https:");
      this.pools.set(url, { httpTarget, pool });
    }
  }

  /** The pods a variant's requests go to now (none: its Service's URL takes them). */
  podsOf(url: string): string[] {
    return this.pools.get(url)?.pool.addresses ?? [];
  }

  /** Closes every pooled connection (at shutdown, after in-flight requests finished). */
  destroy(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
    for (const { pool } of this.pools.values()) pool.close();
    this.pools.clear();
  }

  /**
   * Sends a request to `base` (a variant's URL); resolves once the response headers arrived.
   * A kept-alive connection the server closed just as it was reused (ECONNRESET before any
   * answer: the server never read the request) is retried once on a new connection, as Node's
   * documentation advises for idempotent requests; scoring is. Without that, every pod that
   * shuts down or idles out a connection under load would cost a caller a 502. A request to a
   * pod that never reached it (refused, reset) is sent once to another pod, or to the Service
   * when there is none; the pod that refused is passed over for a while.
   */
  send(base: string, req: UpstreamRequest): Promise<IncomingMessage> {
    const target = this.targetOf(base);
    return this.attempt(target, req, true);
  }

  private attempt(
    target: Target,
    req: UpstreamRequest,
    mayRetry: boolean,
    failed?: Pod,
  ): Promise<IncomingMessage> {
    const pool = this.pools.get(target.base)?.pool;
    const pod = pool?.pick(failed);
    const to =
      pod && pool
        ? { agent: pod.agent, hostname: pod.address, port: pool.port }
        : { agent: this.agentFor(target), hostname: target.hostname, port: target.port };
    return new Promise((resolve, reject) => {
      let answered = false;
      const out = (target.secure ? https : http).request(
        {
          ...to,
          method: req.method,
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
      // In flight on its pod until the answer is read or the exchange is cut.
      const end = pod && pool ? pool.begin(pod) : () => {};
      out.once("close", end);
      out.on("timeout", () => {
        const err = new Error(`no answer within ${this.timeoutMs} ms`) as NodeJS.ErrnoException;
        err.code = "ETIMEDOUT";
        out.destroy(err);
      });
      out.on("error", (err: NodeJS.ErrnoException) => {
        if (answered) return;
        end();
        const again = mayRetry && !req.signal?.aborted && goAgain(err, out.reusedSocket, pod);
        if (again) {
          // A pod that refused is likely going: the next requests pass it over for a while.
          if (again === "pod missed") pool?.eject(pod as Pod);
          this.onRetry();
          resolve(this.attempt(target, req, false, pod));
          return;
        }
        const where = `${target.origin}${pod ? ` (pod ${pod.address})` : ""}`;
        reject(
          new UpstreamError(`${where}: ${err.code ?? err.name}: ${err.message}`, err.code, true),
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
        base,
      };
      this.targets.set(base, target);
    }
    return target;
  }

  private agentFor(target: Target): http.Agent {
    let agent = this.agents.get(target.origin);
    if (!agent) {
      agent = keptAliveAgent(target.secure);
      this.agents.set(target.origin, agent);
    }
    return agent;
  }
}
