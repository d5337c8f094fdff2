import type { HistogramWindow } from "./measurements.js";
import { parsePrometheusFloat } from "./prometheus-text.js";

/**
 * A histogram window from cumulative bucket counts keyed by their `le` label (as scraped or as
 * returned by `sum by (le)`), summing counts that share a bound (`1` and `1.0` are one bound:
 * Prometheus 3 normalises `le` on ingestion, prom-client does not). Undefined when there are no
 * buckets or no +Inf bucket (a histogram without +Inf is not a histogram).
 */
export function histogramWindowOf(
  buckets: Iterable<{ le: string; count: number }>,
): HistogramWindow | undefined {
  const byBound = new Map<number, number>();
  for (const { le, count } of buckets) {
    const bound = parsePrometheusFloat(le);
    if (Number.isNaN(bound)) throw new Error(`histogram bucket with le="${le}"`);
    byBound.set(bound, (byBound.get(bound) ?? 0) + count);
  }
  if (!byBound.has(Number.POSITIVE_INFINITY)) return undefined;
  const bounds = [...byBound.keys()].sort((a, b) => a - b);
  return { bounds, cumulative: bounds.map((b) => byBound.get(b) ?? 0) };
}
