// Small, exact statistics for canary analysis: binomial confidence bounds, a two-proportion
// test, quantiles and PSI from Prometheus histograms. Pure functions, unit-tested.
import type { HistogramWindow } from "./measurements.js";

/** One-sided 99% normal quantile: the confidence every verdict is held to. */
export const Z_99 = 2.3263478740408408;

/** Wilson score interval of a binomial proportion `k / n` at normal quantile `z`. */
export function wilson(k: number, n: number, z = Z_99): { low: number; high: number } {
  if (n <= 0) return { low: 0, high: 1 };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const margin = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { low: Math.max(0, center - margin), high: Math.min(1, center + margin) };
}

/**
 * One-sided two-proportion z statistic for "rate A is greater than rate B" (pooled variance);
 * 0 when either sample is empty or both rates are 0 or 1.
 */
export function twoProportionZ(kA: number, nA: number, kB: number, nB: number): number {
  if (nA <= 0 || nB <= 0) return 0;
  const pooled = (kA + kB) / (nA + nB);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / nA + 1 / nB));
  return se === 0 ? 0 : (kA / nA - kB / nB) / se;
}

/** Observations in a histogram window. */
export function histogramCount(h: HistogramWindow | undefined): number {
  return h?.cumulative.at(-1) ?? 0;
}

/**
 * The q-quantile of a histogram window, interpolated linearly inside the bucket as
 * Prometheus's histogram_quantile does (the +Inf bucket answers with the highest finite
 * bound). Undefined for an empty histogram.
 */
export function histogramQuantile(q: number, h: HistogramWindow | undefined): number | undefined {
  const total = histogramCount(h);
  if (!h || total <= 0) return undefined;
  const rank = q * total;
  for (let i = 0; i < h.bounds.length; i++) {
    const upper = h.bounds[i] as number;
    const cum = h.cumulative[i] as number;
    if (cum < rank) continue;
    if (!Number.isFinite(upper)) return h.bounds[i - 1] ?? 0;
    const lower = i === 0 ? 0 : (h.bounds[i - 1] as number);
    const below = i === 0 ? 0 : (h.cumulative[i - 1] as number);
    const inBucket = cum - below;
    return inBucket <= 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
  }
  return h.bounds.at(-2);
}

/** Per-bucket (non-cumulative) counts of a histogram window. */
function bucketCounts(h: HistogramWindow): number[] {
  return h.cumulative.map((c, i) => c - (i === 0 ? 0 : (h.cumulative[i - 1] as number)));
}

/**
 * Population stability index of `actual` against `expected` over the same buckets, with the
 * expected small-sample bias removed: for two samples of one distribution PSI is about
 * (k - 1)(1/n1 + 1/n2) over k occupied buckets, which at 100 rows and 20 buckets is 0.38, far
 * above any sensible threshold. `adjusted` subtracts it (floored at 0) so low traffic does not
 * look like drift; `raw` is the textbook value. Undefined when either side is empty.
 */
export function psi(
  expected: HistogramWindow | undefined,
  actual: HistogramWindow | undefined,
): { raw: number; adjusted: number } | undefined {
  const n1 = histogramCount(expected);
  const n2 = histogramCount(actual);
  if (!expected || !actual || n1 <= 0 || n2 <= 0) return undefined;
  const e = bucketCounts(expected);
  const a = bucketCounts(actual);
  if (e.length !== a.length) throw new Error("psi: histograms have different buckets");
  const eps = 1e-4;
  let raw = 0;
  let occupied = 0;
  for (let i = 0; i < e.length; i++) {
    const ce = e[i] as number;
    const ca = a[i] as number;
    if (ce + ca > 0) occupied++;
    const pe = Math.max(ce / n1, eps);
    const pa = Math.max(ca / n2, eps);
    raw += (pa - pe) * Math.log(pa / pe);
  }
  const bias = Math.max(0, occupied - 1) * (1 / n1 + 1 / n2);
  return { raw, adjusted: Math.max(0, raw - bias) };
}
