import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { ANALYSIS_METRICS } from "../analysis-metric-names.js";
import type { PodRef } from "../measurements.js";

// Test support for the providers' tests: a pod's /metrics on a real HTTP server, with the
// series the runtime (serving or router mode) exports, in a prom-client registry of its own.
// Traffic is counted straight into the registry, so a test knows every number exactly.

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const PROBABILITY_BUCKETS = Array.from({ length: 19 }, (_, i) =>
  Number(((i + 1) * 0.05).toFixed(2)),
);

/** The metrics of one process lifetime of a pod (a restart starts a new set from zero). */
class PodMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: ANALYSIS_METRICS.requests,
    help: "HTTP requests by route template and status code",
    labelNames: ["method", "route", "code"],
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: ANALYSIS_METRICS.requestDuration,
    help: "HTTP request latency by route template and status code",
    labelNames: ["method", "route", "code"],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly probability = new Histogram({
    name: ANALYSIS_METRICS.probability,
    help: "Predicted churn probabilities",
    buckets: PROBABILITY_BUCKETS,
    registers: [this.registry],
  });
  readonly mirrorComparisons = new Counter({
    name: ANALYSIS_METRICS.mirrorComparisons,
    help: "Mirrored requests compared",
    labelNames: ["endpoint"],
    registers: [this.registry],
  });
  readonly mirrorFlips = new Counter({
    name: ANALYSIS_METRICS.mirrorDecisionFlips,
    help: "Mirrored requests whose decision differed",
    labelNames: ["endpoint"],
    registers: [this.registry],
  });

  constructor(startSeconds: number) {
    new Gauge({
      name: ANALYSIS_METRICS.processStart,
      help: "Start time of the process since unix epoch in seconds.",
      registers: [this.registry],
    }).set(startSeconds);
  }
}

/** A fake pod serving runtime-shaped metrics on 127.0.0.1. */
export class RuntimePod {
  private metrics: PodMetrics;
  private mode: "ok" | "hang" | "error" = "ok";

  private constructor(
    readonly name: string,
    private readonly server: Server,
    readonly port: number,
    startSeconds: number,
  ) {
    this.metrics = new PodMetrics(startSeconds);
  }

  /** Starts a pod whose process started at `startSeconds` (default: an hour ago). */
  static async start(name: string, startSeconds = Date.now() / 1000 - 3600): Promise<RuntimePod> {
    let pod: RuntimePod | undefined;
    const server = createServer((req, res) => {
      if (!pod || pod.mode === "hang") return; // never answers: the scrape must time out
      if (pod.mode === "error" || req.url !== "/metrics") {
        res.writeHead(pod.mode === "error" ? 500 : 404).end("no");
        return;
      }
      const { registry } = pod.metrics;
      registry.metrics().then((text) => {
        res.writeHead(200, { "content-type": registry.contentType }).end(text);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    pod = new RuntimePod(name, server, (server.address() as AddressInfo).port, startSeconds);
    return pod;
  }

  /** How the analysis addresses this pod. */
  get ref(): PodRef {
    return { name: this.name, ip: "127.0.0.1", port: this.port };
  }

  /**
   * Counts `n` answered requests on `route` with `code`, each taking `seconds` and, when a
   * probability is given, scoring one row with it.
   */
  serve(n: number, route: string, code: number, seconds: number, probability?: number): RuntimePod {
    const labels = { method: "POST", route, code: String(code) };
    this.metrics.requests.inc(labels, n);
    for (let i = 0; i < n; i++) {
      this.metrics.duration.observe(labels, seconds);
      if (probability !== undefined) this.metrics.probability.observe(probability);
    }
    return this;
  }

  /** Counts `n` mirrored comparisons by the router, `flips` of them with another decision. */
  mirror(n: number, flips: number, endpoint = "/v1/score"): RuntimePod {
    this.metrics.mirrorComparisons.inc({ endpoint }, n);
    this.metrics.mirrorFlips.inc({ endpoint }, flips);
    return this;
  }

  /**
   * Exports the series of these routes and codes at zero before any traffic, as the runtime's
   * do once used: Prometheus's increase() needs a series' first point to count from.
   */
  zero(routes: string[], codes: number[], mirrorEndpoints: string[] = []): RuntimePod {
    for (const route of routes) {
      for (const code of codes) {
        const labels = { method: "POST", route, code: String(code) };
        this.metrics.requests.inc(labels, 0);
        this.metrics.duration.zero(labels);
      }
    }
    for (const endpoint of mirrorEndpoints) {
      this.metrics.mirrorComparisons.inc({ endpoint }, 0);
      this.metrics.mirrorFlips.inc({ endpoint }, 0);
    }
    return this;
  }

  /** The process restarts: every counter from zero, a new start time. */
  restart(startSeconds = Date.now() / 1000): RuntimePod {
    this.metrics = new PodMetrics(startSeconds);
    return this;
  }

  /** Scrapes from now on never answer (`hang`) or answer 500 (`error`), or work again (`ok`). */
  answer(mode: "ok" | "hang" | "error"): void {
    this.mode = mode;
  }

  /** Stops listening: scrapes are refused. */
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
