// Builds the router's koa app: its own /healthz, /readyz and /metrics, and every request on
// /v1/* and /v2/* (any method) sent to the stable or the canary by exact weight, sticky per
// customer, forceable with `x-churn-variant`, optionally mirrored. Listening and the process
// lifecycle live in router-server.ts.
import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";
import Koa, { type Context, type Next } from "koa";
import { errorMiddleware } from "../http/error-middleware.js";
import type { InflightTracker } from "../http/inflight-tracker.js";
import { assignRequestId, logRequest } from "../http/observe.js";
import type { Logger } from "../logger.js";
import { RequestError } from "../request-error.js";
import { MAX_ANSWER_BYTES, type Mirror } from "./mirror.js";
import { readBody } from "./request-body.js";
import type { AnsweredBy, RouterMetrics } from "./router-metrics.js";
import { stickyKeyOf } from "./sticky-key.js";
import type { TrafficConfig } from "./traffic-config.js";
import type { TrafficState } from "./traffic-state.js";
import {
  endToEndHeaders,
  UpstreamError,
  type UpstreamRequest,
  type Upstreams,
} from "./upstream.js";
import { assignVariant, BucketSequence, inShare, type Variant } from "./variant-assignment.js";

/** Request header forcing a variant (for testing); response header naming the one that answered. */
export const VARIANT_HEADER = "x-churn-variant";
/** Response header: the digest of the model that answered. */
export const DIGEST_HEADER = "x-churn-model-digest";
/** Request header on mirrored copies, so the canary's logs can tell them apart. */
export const MIRROR_HEADER = "x-churn-mirror";

/** What the router app needs from its host. */
export interface RouterDeps {
  traffic: TrafficState;
  metrics: RouterMetrics;
  logger: Logger;
  upstreams: Upstreams;
  mirror: Mirror;
  inflight?: InflightTracker;
  maxBodyBytes: number;
}

/** /v1/*, and /v2 with everything under it (GET /v2 is the protocol's server metadata). */
const ROUTED = /^\/v1\/|^\/v2(\/|$)/;
/** Never forwarded: set per hop, or meant for the router. */
const NOT_FORWARDED = new Set(["host", "content-length", "expect", VARIANT_HEADER]);

/** Times and counts routed requests by the variant that answered, and logs them. */
function observe(deps: RouterDeps) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const start = process.hrtime.bigint();
    assignRequestId(ctx);
    const routed = ROUTED.test(ctx.path);
    if (routed) countInFlight(deps, 1);
    try {
      await next();
    } finally {
      if (routed) countInFlight(deps, -1);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const variant: AnsweredBy = ctx.state.answeredBy ?? "none";
      if (routed) {
        deps.metrics.requests.inc({ variant, code: String(ctx.status) });
        deps.metrics.requestDuration.observe({ variant }, seconds);
      }
      const level = requestLogLevel(ctx, routed);
      logRequest(deps.logger, level, ctx, seconds, { variant });
    }
  };
}

/** A routed request entering (+1) or leaving (-1): the drain tracker and the gauge. */
function countInFlight(deps: RouterDeps, delta: 1 | -1): void {
  if (delta > 0) {
    deps.inflight?.enter();
    deps.metrics.inFlight.inc();
  } else {
    deps.inflight?.leave();
    deps.metrics.inFlight.dec();
  }
}

/**
 * The request line's level: a relayed 5xx is the upstream's failure, logged there; the router's
 * own are errors here; routed requests info, its own routes debug.
 */
function requestLogLevel(ctx: Context, routed: boolean): "error" | "info" | "debug" {
  if (!ctx.state.relayed && ctx.status >= 500 && ctx.status !== 503) return "error";
  return routed ? "info" : "debug";
}

/** Builds the router app. */
export function buildRouterApp(deps: RouterDeps): Koa {
  const { traffic, metrics } = deps;
  const app = new Koa();
  app.proxy = false;
  // Koa's default error listener prints stacks to stderr; errors are already logged as JSON.
  app.silent = true;
  const proxy = proxyTo(deps);

  app.use(observe(deps));
  app.use(errorMiddleware(deps.logger));
  app.use(async (ctx) => {
    if (ROUTED.test(ctx.path)) return proxy(ctx);
    const own = ["/healthz", "/readyz", "/metrics"].includes(ctx.path);
    if (!own) return; // the error middleware answers 404
    if (ctx.method !== "GET" && ctx.method !== "HEAD") {
      throw new RequestError(405, "method_not_allowed", "method not allowed on this route");
    }
    if (ctx.path === "/healthz") {
      ctx.body = { status: "ok" };
    } else if (ctx.path === "/readyz") {
      ctx.status = traffic.ready ? 200 : 503;
      ctx.body = readiness(traffic);
    } else {
      ctx.type = metrics.registry.contentType;
      ctx.body = await metrics.registry.metrics();
    }
  });
  return app;
}

/** /readyz's body: ready or why not, the configuration in force and any problem with a newer one. */
function readiness(traffic: TrafficState) {
  const config = traffic.config;
  return {
    ready: traffic.ready,
    ...(traffic.ready ? {} : { reason: traffic.notReadyReason }),
    ...(config
      ? {
          model: config.model,
          stable: config.stable.digest,
          canary: config.canary?.digest ?? null,
          weight: config.canary?.weight ?? 0,
          mirrorPercent: config.canary?.mirrorPercent ?? 0,
        }
      : {}),
    ...(traffic.problem ? { configProblem: traffic.problem } : {}),
  };
}

/** A stable answer's body for the mirror comparison (undefined: nothing to compare). */
type KeepAnswer = (answer: Buffer | undefined) => void;

/** The routing handler for /v1/* and /v2/*. */
function proxyTo(deps: RouterDeps) {
  const { traffic, metrics, logger, upstreams, mirror } = deps;
  const keyless = new BucketSequence();
  const mirrorDraws = new BucketSequence();

  /** The variant that should answer: forced by header, else by the request's bucket. */
  const assign = (ctx: Context, config: TrafficConfig, body: Buffer): Variant =>
    forcedVariant(ctx.get(VARIANT_HEADER), config) ??
    assignVariant(
      config,
      () =>
        stickyKeyOf(
          {
            path: ctx.path,
            header: (name) => ctx.get(name) || undefined,
            contentType: ctx.get("content-type"),
            body,
          },
          config.stickyHeader,
          traffic.idColumns.idColumn,
        ),
      keyless,
    );

  /**
   * A stable-routed score request may be copied to the canary, sent at once, compared later:
   * the function that hands the mirror the stable's answer, when a copy went out.
   */
  const mirrorCopy = (
    ctx: Context,
    canary: TrafficConfig["canary"],
    req: UpstreamRequest,
  ): KeepAnswer | undefined => {
    const copied =
      canary &&
      canary.mirrorPercent > 0 &&
      ctx.method === "POST" &&
      ctx.path === "/v1/score" &&
      inShare(mirrorDraws.draw(), canary.mirrorPercent);
    if (!copied) return undefined;
    let keep: KeepAnswer | undefined;
    const answer = new Promise<Buffer | undefined>((resolve) => {
      keep = resolve;
    });
    const copy = {
      ...req,
      headers: { ...req.headers, [MIRROR_HEADER]: "true" },
      signal: undefined,
    };
    return mirror.copy(canary.url, copy, answer) ? keep : undefined;
  };

  /**
   * Sends to the variant; a canary that never saw the request (unreachable) falls back to the
   * stable. Counted under the variant the request went to, also when that variant failed.
   */
  const send = async (
    ctx: Context,
    config: TrafficConfig,
    variant: Variant,
    req: UpstreamRequest,
    signal: AbortSignal,
  ): Promise<{ res: IncomingMessage; answeredBy: Variant }> => {
    const canary = config.canary;
    ctx.state.answeredBy = variant;
    try {
      const url = variant === "canary" && canary ? canary.url : config.stable.url;
      return { res: await upstreams.send(url, req), answeredBy: variant };
    } catch (err) {
      const retry =
        variant === "canary" && err instanceof UpstreamError && err.retryable && !signal.aborted;
      if (!retry) throw err;
      // The canary never saw the request: the stable answers it, and the fallback is counted.
      metrics.fallbacks.inc();
      logger.warn("canary unreachable; the stable answers", {
        requestId: ctx.state.requestId,
        canary: canary?.url,
        error: err.message,
      });
      ctx.state.answeredBy = "stable";
      return { res: await upstreams.send(config.stable.url, req), answeredBy: "stable" };
    }
  };

  return async (ctx: Context): Promise<void> => {
    // One configuration for the whole request, even if a new one arrives meanwhile.
    const config = traffic.config;
    if (!traffic.ready || !config) {
      throw new RequestError(503, "not_ready", `router not ready: ${traffic.notReadyReason}`);
    }
    const body = await readBody(ctx, deps.maxBodyBytes);
    const variant = assign(ctx, config, body);

    const headers: OutgoingHttpHeaders = endToEndHeaders(ctx.req.headers, NOT_FORWARDED);
    headers["x-request-id"] = ctx.state.requestId as string;
    // The caller hanging up while the upstream has not answered yet stops the upstream call
    // too (once the answer streams, koa drops the upstream stream with the caller's socket).
    const abort = new AbortController();
    const hungUp = () => abort.abort();
    ctx.res.once("close", hungUp);
    const req: UpstreamRequest = {
      method: ctx.method,
      path: ctx.url,
      headers,
      body,
      signal: abort.signal,
    };
    const stableAnswer = variant === "stable" ? mirrorCopy(ctx, config.canary, req) : undefined;

    let sent: { res: IncomingMessage; answeredBy: Variant };
    try {
      sent = await send(ctx, config, variant, req, abort.signal);
    } catch (err) {
      ctx.res.off("close", hungUp);
      stableAnswer?.(undefined);
      throw upstreamFailure(err, abort.signal.aborted, ctx.state.answeredBy as Variant);
    }
    ctx.res.off("close", hungUp);
    answer(ctx, config, sent, stableAnswer);
  };
}

/** The variant a request forces with the header (or gRPC metadata); refuses unknown ones and an absent canary. */
export function forcedVariant(
  forced: string | undefined,
  config: TrafficConfig,
): Variant | undefined {
  if (!forced) return undefined;
  if (forced !== "stable" && forced !== "canary") {
    throw new RequestError(
      400,
      "invalid_variant",
      `${VARIANT_HEADER} must be stable or canary, got ${JSON.stringify(forced.slice(0, 40))}`,
    );
  }
  if (forced === "canary" && !config.canary) {
    throw new RequestError(
      409,
      "no_canary",
      `${VARIANT_HEADER}: canary, but no canary is deployed`,
    );
  }
  return forced;
}

/** What the caller is told when the upstream call failed: 499, 504 or 502 (others as they are). */
function upstreamFailure(err: unknown, callerGone: boolean, answeredBy: Variant): unknown {
  if (!(err instanceof UpstreamError)) return err;
  // The caller hung up and the call was dropped with it: nothing failed upstream.
  if (callerGone) return new RequestError(499, "client_closed", "the client closed the connection");
  return err.code === "ETIMEDOUT"
    ? new RequestError(504, "upstream_timeout", `the ${answeredBy} did not answer: ${err.message}`)
    : new RequestError(
        502,
        "upstream_unavailable",
        `the ${answeredBy} is unreachable: ${err.message}`,
      );
}

/** Answers with the upstream's status, headers and streamed body, naming who answered. */
function answer(
  ctx: Context,
  config: TrafficConfig,
  { res, answeredBy }: { res: IncomingMessage; answeredBy: Variant },
  stableAnswer: KeepAnswer | undefined,
): void {
  const canary = config.canary;
  ctx.status = res.statusCode ?? 502;
  ctx.set(endToEndHeaders(res.headers) as Record<string, string | string[]>);
  ctx.set(VARIANT_HEADER, answeredBy);
  ctx.set(DIGEST_HEADER, answeredBy === "canary" && canary ? canary.digest : config.stable.digest);
  // Bodiless answers (HEAD, 204, 304) are relayed too: their empty stream ends at once.
  const compare = ctx.status >= 200 && ctx.status < 300 ? stableAnswer : undefined;
  if (compare !== stableAnswer) stableAnswer?.(undefined);
  relay(res, ctx, compare);
}

/**
 * Streams the upstream's answer to the caller with a plain pipe: koa's own stream responses go
 * through stream.pipeline, whose per-request AbortController costs Node 20 more than the rest of
 * the relay. With `keep`, the body is also kept for the mirror comparison.
 */
function relay(
  res: IncomingMessage,
  ctx: Context,
  keep: ((answer: Buffer | undefined) => void) | undefined,
): void {
  // The body is set so the layers above see an answer (the error middleware turns a bodiless
  // 404 into its own); koa itself writes nothing.
  ctx.body = res;
  ctx.respond = false;
  ctx.state.relayed = true;
  const out = ctx.res;
  if (keep) {
    const chunks: Buffer[] = [];
    let size = 0;
    let kept = false;
    const done = (answer: Buffer | undefined) => {
      if (kept) return;
      kept = true;
      keep(answer);
    };
    res.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_ANSWER_BYTES) chunks.push(c);
    });
    // An answer too large to keep is streamed to the caller all the same, just not compared.
    res.on("end", () => done(size <= MAX_ANSWER_BYTES ? Buffer.concat(chunks, size) : undefined));
    res.on("close", () => done(undefined));
  }
  // An upstream cut off mid-answer cannot be finished: the caller's connection is cut too.
  res.on("error", (err) => out.destroy(err));
  res.on("aborted", () => out.destroy());
  // The caller left before the whole answer: release the upstream connection.
  out.once("close", () => {
    if (!res.complete) res.destroy();
  });
  res.pipe(out);
}
