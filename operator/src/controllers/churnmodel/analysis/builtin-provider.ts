import { ANALYSIS_METRICS, isScoringRoute, isServerError } from "./analysis-metric-names.js";
import { describeFetchError } from "./fetch-error.js";
import { histogramWindowOf } from "./histogram-window.js";
import type {
  Measurements,
  MeasureRequest,
  MetricProvider,
  MirrorWindow,
  PodRef,
  VariantWindow,
} from "./measurements.js";
import { parsePrometheusText, type Sample } from "./prometheus-text.js";

// The provider that needs no Prometheus: it scrapes each serving and router pod's /metrics
// itself and turns two consecutive scrapes into a window. Counters and histogram buckets are
// kept per series and per pod; the window is their difference, the way Prometheus's increase()
// treats a series, without its extrapolation:
// - a pod whose counters went down, or whose process_start_time_seconds changed, restarted:
//   its current values are the window's;
// - a pod first seen counts from zero if its process started inside the window, else it only
//   sets its baseline (its counters hold traffic from before the window);
// - a series first seen on a pod already known was zero at the previous scrape;
// - a pod that did not answer contributes nothing now and keeps its previous point, so its
//   traffic is counted at its next answer instead of lost;
// - a pod no longer listed is forgotten.

/** Settings of the builtin provider. */
export interface BuiltinProviderOptions {
  /** Per-pod scrape timeout (connect and body). Default 2000 ms. */
  scrapeTimeoutMs?: number;
}

/** What one scrape of one pod keeps: the series analysis reads, by series identity. */
interface PodPoint {
  /** process_start_time_seconds, when the pod exports it. */
  startSeconds?: number;
  series: Map<string, Sample>;
}

/** The previous scrape of a model's pods, and when it was taken (the next window's start). */
interface ModelPoint {
  at: Date;
  pods: Map<string, PodPoint>;
}

const DEFAULT_SCRAPE_TIMEOUT_MS = 2000;
const CUSTOM_UNSUPPORTED = "custom metrics need the prometheus provider";
const LATENCY_BUCKET = `${ANALYSIS_METRICS.requestDuration}_bucket`;
const PROBABILITY_BUCKET = `${ANALYSIS_METRICS.probability}_bucket`;

/** Scrapes the variants' pods directly; counters become deltas between consecutive calls. */
export class BuiltinProvider implements MetricProvider {
  readonly kind = "builtin" as const;
  private readonly points = new Map<string, ModelPoint>();
  private readonly scrapeTimeoutMs: number;

  constructor(options: BuiltinProviderOptions = {}) {
    this.scrapeTimeoutMs = options.scrapeTimeoutMs ?? DEFAULT_SCRAPE_TIMEOUT_MS;
  }

  /** Always true: the source is the pods themselves, checked on every measure. */
  async isOnline(): Promise<boolean> {
    return true;
  }

  forget(namespace: string, model: string): void {
    this.points.delete(modelKey(namespace, model));
  }

  /**
   * Scrapes every listed pod; returns the window since the previous call for this model, or
   * undefined on the first. Throws naming the pods when no pod of a non-empty group (stable,
   * canary, router) answers; nothing is remembered then, so the next window starts at the
   * last complete one.
   */
  async measure(req: MeasureRequest): Promise<Measurements | undefined> {
    const groups = {
      stable: req.pods.stable,
      canary: req.pods.canary,
      router: req.routerPods,
    };
    const all = [...groups.stable, ...groups.canary, ...groups.router];
    const outcomes = await Promise.all(
      all.map(async (pod) => {
        try {
          return { pod, point: await this.scrape(pod) };
        } catch (err) {
          return { pod, error: describeFetchError(err) };
        }
      }),
    );
    const scraped = new Map<string, PodPoint>();
    const failures = new Map<string, string>();
    for (const o of outcomes) {
      if (o.point) scraped.set(o.pod.name, o.point);
      else failures.set(o.pod.name, o.error ?? "no answer");
    }
    const silent = Object.entries(groups).filter(
      ([, pods]) => pods.length > 0 && pods.every((p) => failures.has(p.name)),
    );
    if (silent.length > 0) {
      throw new Error(
        silent
          .map(
            ([group, pods]) =>
              `no ${group} pod answered a metrics scrape: ${pods
                .map((p) => `${p.name} (${p.ip}:${p.port}: ${failures.get(p.name)})`)
                .join(", ")}`,
          )
          .join("; "),
      );
    }

    const key = modelKey(req.namespace, req.model);
    const previous = this.points.get(key);
    const next = new Map<string, PodPoint>();
    for (const pod of all) {
      const point = scraped.get(pod.name) ?? previous?.pods.get(pod.name);
      if (point) next.set(pod.name, point);
    }
    this.points.set(key, { at: req.now, pods: next });
    if (!previous) return undefined;

    const deltasOf = (pods: PodRef[]) =>
      pods.flatMap((pod) => {
        const current = scraped.get(pod.name);
        if (!current) return [];
        const d = podDelta(previous.pods.get(pod.name), current, previous.at);
        return d ? [d] : [];
      });
    return {
      start: previous.at,
      end: req.now,
      stable: variantWindow(deltasOf(groups.stable)),
      canary: variantWindow(deltasOf(groups.canary)),
      mirror: mirrorWindow(deltasOf(groups.router)),
      custom: req.custom.map((c) => ({ name: c.name, error: CUSTOM_UNSUPPORTED })),
    };
  }

  private async scrape(pod: PodRef): Promise<PodPoint> {
    const host = pod.ip.includes(":") ? `[${pod.ip}]` : pod.ip;
    const res = await fetch(`http://${host}:${pod.port}/metrics`, {
      headers: { accept: "text/plain;version=0.0.4" },
      signal: AbortSignal.timeout(this.scrapeTimeoutMs),
    });
    const body = await res.text();
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return pointOf(parsePrometheusText(body));
  }
}

/** Keeps the series analysis reads (see analysis-metric-names.ts) and the process start. */
function pointOf(samples: Sample[]): PodPoint {
  const point: PodPoint = { series: new Map() };
  for (const s of samples) {
    if (s.name === ANALYSIS_METRICS.processStart) {
      point.startSeconds = s.value;
      continue;
    }
    const kept =
      s.name === PROBABILITY_BUCKET ||
      s.name === ANALYSIS_METRICS.mirrorComparisons ||
      s.name === ANALYSIS_METRICS.mirrorDecisionFlips ||
      ((s.name === ANALYSIS_METRICS.requests || s.name === LATENCY_BUCKET) &&
        isScoringRoute(s.labels.route));
    if (kept) point.series.set(seriesKey(s), s);
  }
  return point;
}

/** A pod's increase since its previous point, or undefined when it only sets a baseline. */
function podDelta(
  previous: PodPoint | undefined,
  current: PodPoint,
  windowStart: Date,
): Sample[] | undefined {
  if (!previous) {
    const startedInWindow =
      current.startSeconds !== undefined && current.startSeconds * 1000 >= windowStart.getTime();
    return startedInWindow ? [...current.series.values()] : undefined;
  }
  const restarted =
    (current.startSeconds !== undefined &&
      previous.startSeconds !== undefined &&
      current.startSeconds !== previous.startSeconds) ||
    [...current.series].some(([k, s]) => s.value < (previous.series.get(k)?.value ?? 0));
  if (restarted) return [...current.series.values()];
  return [...current.series].map(([k, s]) => ({
    ...s,
    value: s.value - (previous.series.get(k)?.value ?? 0),
  }));
}

/** Sums pods' deltas into one variant's window; undefined when no pod had a window. */
function variantWindow(pods: Sample[][]): VariantWindow | undefined {
  if (pods.length === 0) return undefined;
  let requests = 0;
  let errors = 0;
  const latency: { le: string; count: number }[] = [];
  const probability: { le: string; count: number }[] = [];
  for (const s of pods.flat()) {
    if (s.name === ANALYSIS_METRICS.requests) {
      requests += s.value;
      if (isServerError(s.labels.code)) errors += s.value;
    } else if (s.name === LATENCY_BUCKET && s.labels.le !== undefined) {
      latency.push({ le: s.labels.le, count: s.value });
    } else if (s.name === PROBABILITY_BUCKET && s.labels.le !== undefined) {
      probability.push({ le: s.labels.le, count: s.value });
    }
  }
  return {
    requests,
    errors,
    latency: histogramWindowOf(latency),
    probability: histogramWindowOf(probability),
  };
}

/** Sums router pods' mirror counters; undefined when nothing was compared in the window. */
function mirrorWindow(pods: Sample[][]): MirrorWindow | undefined {
  let compared = 0;
  let decisionFlips = 0;
  for (const s of pods.flat()) {
    if (s.name === ANALYSIS_METRICS.mirrorComparisons) compared += s.value;
    else if (s.name === ANALYSIS_METRICS.mirrorDecisionFlips) decisionFlips += s.value;
  }
  return compared > 0 ? { compared, decisionFlips } : undefined;
}

function seriesKey(s: Sample): string {
  const labels = Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([s.name, labels]);
}

function modelKey(namespace: string, model: string): string {
  return `${namespace}/${model}`;
}
