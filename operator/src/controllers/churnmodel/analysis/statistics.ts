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

/**
 * Observations certainly above `value`: those past the smallest bucket bound at or above it
 * (a bucket that straddles `value` counts as not above, so the count errs towards fewer).
 */
export function countAbove(h: HistogramWindow | undefined, value: number): number {
  const total = histogramCount(h);
  if (!h || total <= 0) return 0;
  const i = h.bounds.findIndex((b) => b >= value);
  return i < 0 ? 0 : total - (h.cumulative[i] as number);
}

/**
 * An upper confidence bound of the q-quantile of the population a histogram window samples:
 * the quantile at the rank a binomial's upper bound allows (distribution-free, the order
 * statistic's normal approximation), so a few hundred samples do not make a p99 look low by luck.
 */
export function quantileUpperBound(
  q: number,
  h: HistogramWindow | undefined,
  z = Z_99,
): number | undefined {
  const n = histogramCount(h);
  if (n <= 0) return undefined;
  return histogramQuantile(Math.min(1, q + z * Math.sqrt((q * (1 - q)) / n)), h);
}

/** Per-bucket (non-cumulative) counts of a histogram window. */
function bucketCounts(h: HistogramWindow): number[] {
  return h.cumulative.map((c, i) => c - (i === 0 ? 0 : (h.cumulative[i - 1] as number)));
}

/**
 * The p-quantile of a chi-square distribution with `df` degrees of freedom (Wilson-Hilferty;
 * within about 1% of the exact value from 3 degrees of freedom on), for a normal quantile `z`.
 */
export function chiSquareQuantile(df: number, z = Z_99): number {
  if (df <= 0) return 0;
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

/** PSI of two histogram windows, and whether the difference is more than sampling noise. */
export interface PsiResult {
  /** The textbook PSI over the occupied buckets (half a count added to each, no zero logs). */
  raw: number;
  /** PSI minus its expected value for two samples of one distribution, floored at 0. */
  adjusted: number;
  /** Whether the two samples differ at 99% confidence (a chi-square test on the PSI). */
  significant: boolean;
}

/**
 * Population stability index of `actual` against `expected` over the same buckets. PSI is the
 * symmetric Kullback-Leibler divergence, so for two samples of one distribution n1*n2/(n1+n2)
 * * PSI is about chi-square with k - 1 degrees of freedom over k occupied buckets: at 100 rows
 * and 20 buckets the expected PSI of pure noise is 0.38, far above any sensible threshold.
 * `adjusted` removes that bias and `significant` tests it, so low traffic does not look like
 * drift. Undefined when either side is empty.
 */
export function psi(
  expected: HistogramWindow | undefined,
  actual: HistogramWindow | undefined,
): PsiResult | undefined {
  const n1 = histogramCount(expected);
  const n2 = histogramCount(actual);
  if (!expected || !actual || n1 <= 0 || n2 <= 0) return undefined;
  const e = bucketCounts(expected);
  const a = bucketCounts(actual);
  if (e.length !== a.length) throw new Error("psi: histograms have different buckets");
  const occupied = e.map((c, i) => c + (a[i] as number) > 0);
  const k = occupied.filter(Boolean).length;
  const t1 = n1 + 0.5 * k;
  const t2 = n2 + 0.5 * k;
  let raw = 0;
  for (let i = 0; i < e.length; i++) {
    if (!occupied[i]) continue;
    const pe = ((e[i] as number) + 0.5) / t1;
    const pa = ((a[i] as number) + 0.5) / t2;
    raw += (pa - pe) * Math.log(pa / pe);
  }
  const df = Math.max(0, k - 1);
  const bias = df * (1 / n1 + 1 / n2);
  const statistic = ((n1 * n2) / (n1 + n2)) * raw;
  return {
    raw,
    adjusted: Math.max(0, raw - bias),
    significant: df > 0 && statistic > chiSquareQuantile(df),
  };
}
