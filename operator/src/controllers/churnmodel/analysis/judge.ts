// From measurements to a verdict: each metric Pass, Fail or Inconclusive, then one verdict for
// the analysis. Pure; the same for every provider. Like Kayenta, canary is compared with the
// stable version measured over the same window (not with yesterday), with a statistical test
// and an effect-size tolerance so low traffic does not roll back a good model; unlike
// Kayenta, every built-in metric is critical (one Fail rolls back at once: a model that
// errors, crawls or scores differently should not keep answering while others look fine),
// and no data is never a pass.
import type { ResolvedAnalysis } from "../../../api/defaults.js";
import type { MetricResult } from "../../../api/rollout.js";
import type { Measurements, VariantWindow } from "./measurements.js";
import {
  countAbove,
  histogramCount,
  histogramQuantile,
  psi,
  quantileUpperBound,
  twoProportionZ,
  wilson,
  Z_99,
} from "./statistics.js";

/** One analysis's outcome. */
export interface Verdict {
  verdict: "Pass" | "Fail" | "Inconclusive";
  metrics: MetricResult[];
  /** Start of the measured window: a step completes only on a pass measured after it began. */
  windowStart: Date;
  /** 0-100: the share of applicable metrics that passed (Kayenta's score, for dashboards). */
  score: number;
}

/** Canary p99 must exceed stable p99 by at least this much before the ratio can fail it. */
export const LATENCY_TOLERANCE_MS = 25;

type Judge = (m: Measurements, a: ResolvedAnalysis) => MetricResult | undefined;

// Samples are whole numbers in status (Prometheus's increase() is fractional).
const inconclusive = (name: string, message: string, samples?: number): MetricResult => ({
  name,
  verdict: "Inconclusive",
  message,
  ...(samples === undefined ? {} : { samples: Math.round(samples) }),
});

function enough(
  name: string,
  v: VariantWindow | undefined,
  minSamples: number,
  what: string,
): MetricResult | undefined {
  const n = Math.round(v?.requests ?? 0);
  return n < minSamples
    ? inconclusive(name, `${what} served ${n} requests (needs ${minSamples})`, n)
    : undefined;
}

const round = (x: number, digits = 4) => Number(x.toFixed(digits));

/**
 * A judge of the canary's own requests (`key` is the metric's name and its setting): off without
 * its setting, Inconclusive while the canary has served fewer than minSamples requests.
 */
function canaryJudge<K extends "successRate" | "latencyP99Ms">(
  key: K,
  judge: (
    name: K,
    canary: VariantWindow,
    m: Measurements,
    setting: NonNullable<ResolvedAnalysis[K]>,
    a: ResolvedAnalysis,
  ) => MetricResult,
): Judge {
  return (m, a) => {
    const setting = a[key];
    if (!setting) return undefined;
    const c = m.canary;
    const short = enough(key, c, a.minSamples, "the canary");
    if (short || !c) return short;
    return judge(key, c, m, setting as NonNullable<ResolvedAnalysis[K]>, a);
  };
}

/** Errors: below the floor with confidence, and worse than stable with confidence, fails. */
const successRate: Judge = canaryJudge("successRate", (name, c, m, setting) => {
  const min = setting.min;
  const ok = c.requests - c.errors;
  const rate = ok / c.requests;
  const bound = wilson(ok, c.requests);
  const s = m.stable;
  const stableRate = s && s.requests > 0 ? (s.requests - s.errors) / s.requests : undefined;
  const worseThanStable =
    !s || s.requests === 0 || twoProportionZ(c.errors, c.requests, s.errors, s.requests) > Z_99;
  const fail = bound.high < min && worseThanStable;
  const base = {
    name,
    value: round(rate),
    ...(stableRate === undefined ? {} : { stable: round(stableRate) }),
    threshold: `>= ${min}`,
    samples: Math.round(c.requests),
  };
  if (fail) {
    return {
      ...base,
      verdict: "Fail",
      message: `canary success rate ${round(rate)} (${Math.round(c.errors)} errors in ${Math.round(c.requests)}; at most ${round(bound.high)} at 99% confidence) is below ${min}${stableRate === undefined ? "" : ` and worse than stable's ${round(stableRate)}`}`,
    };
  }
  return {
    ...base,
    verdict: "Pass",
    message: `${Math.round(c.errors)} errors in ${Math.round(c.requests)} requests`,
  };
});

/**
 * Latency: fails when the canary's p99 is above a limit with 99% confidence, that is when more
 * than 1% of its requests are slower than the limit by a Wilson bound (so one slow request among
 * a few dozen, which is all a p99 of a few dozen is, does not roll a good model back). The
 * limits: `max`, and `maxRatioToStable` x stable's p99 (its upper confidence bound, at least
 * LATENCY_TOLERANCE_MS above it) when stable served minSamples requests.
 */
const latency: Judge = canaryJudge("latencyP99Ms", (name, c, m, setting, a) => {
  const p99c = histogramQuantile(0.99, c.latency);
  if (p99c === undefined) return inconclusive(name, "no latency histogram for the canary");
  const ms = p99c * 1000;
  const n = histogramCount(c.latency);
  const s = m.stable && m.stable.requests >= a.minSamples ? m.stable.latency : undefined;
  const p99s = histogramQuantile(0.99, s);
  const stableMs = p99s === undefined ? undefined : p99s * 1000;
  const stableHigh = quantileUpperBound(0.99, s);
  const { max, maxRatioToStable } = setting;
  const base = {
    name,
    value: round(ms, 2),
    ...(stableMs === undefined ? {} : { stable: round(stableMs, 2) }),
    threshold: `<= ${max} ms and <= ${maxRatioToStable} x stable`,
    samples: Math.round(n),
  };
  /** `${k} of ${n} requests slower than ${limit} ms` when over 1% of them are, with confidence. */
  const over = (limitMs: number) => {
    const k = countAbove(c.latency, limitMs / 1000);
    return wilson(k, n).low > 0.01
      ? `${Math.round(k)} of ${Math.round(n)} requests slower than ${round(limitMs, 1)} ms`
      : undefined;
  };
  const overMax = over(max);
  if (overMax)
    return {
      ...base,
      verdict: "Fail",
      message: `canary p99 ${round(ms, 1)} ms > ${max} ms: ${overMax} (over 1% at 99% confidence)`,
    };
  if (stableMs !== undefined && stableHigh !== undefined) {
    const highMs = stableHigh * 1000;
    const limit = Math.max(maxRatioToStable * highMs, highMs + LATENCY_TOLERANCE_MS);
    const overStable = over(limit);
    if (overStable)
      return {
        ...base,
        verdict: "Fail",
        message: `canary p99 ${round(ms, 1)} ms is ${round(ms / stableMs, 2)} x stable's ${round(stableMs, 1)} ms (max ${maxRatioToStable} x): ${overStable} (over 1% at 99% confidence)`,
      };
  }
  return { ...base, verdict: "Pass", message: `p99 ${round(ms, 1)} ms` };
});

/** Score drift: PSI of canary vs stable predicted probabilities, small-sample bias removed. */
const scoreDrift: Judge = (m, a) => {
  if (!a.scoreDrift) return undefined;
  const name = "scoreDrift";
  const nc = histogramCount(m.canary?.probability);
  const ns = histogramCount(m.stable?.probability);
  if (nc < a.minSamples || ns < a.minSamples)
    return inconclusive(
      name,
      `scored rows: canary ${Math.round(nc)}, stable ${Math.round(ns)} (needs ${a.minSamples} each)`,
      nc,
    );
  const p = psi(m.stable?.probability, m.canary?.probability);
  if (!p) return inconclusive(name, "no probability histograms", nc);
  const max = a.scoreDrift.maxPsi;
  const base = {
    name,
    value: round(p.adjusted),
    threshold: `PSI <= ${max}`,
    samples: Math.round(nc),
  };
  return p.adjusted > max && p.significant
    ? {
        ...base,
        verdict: "Fail",
        message: `canary scores drift from stable's: PSI ${round(p.adjusted)} (raw ${round(p.raw)}) > ${max}`,
      }
    : { ...base, verdict: "Pass", message: `PSI ${round(p.adjusted)} (raw ${round(p.raw)})` };
};

/** Mirrored requests: decision flips above the limit with confidence fail. */
const mirrorDisagreement: Judge = (m, a) => {
  if (!a.mirrorDisagreement || !m.mirror || m.mirror.compared === 0) return undefined;
  const name = "mirrorDisagreement";
  const { compared, decisionFlips } = m.mirror;
  if (compared < a.minSamples)
    return inconclusive(name, `${Math.round(compared)} mirrored (needs ${a.minSamples})`, compared);
  const max = a.mirrorDisagreement.maxRate;
  const rate = decisionFlips / compared;
  const base = {
    name,
    value: round(rate),
    threshold: `<= ${max}`,
    samples: Math.round(compared),
  };
  return wilson(decisionFlips, compared).low > max
    ? {
        ...base,
        verdict: "Fail",
        message: `${Math.round(decisionFlips)} of ${Math.round(compared)} mirrored requests got a different decision (${round(rate)} > ${max})`,
      }
    : {
        ...base,
        verdict: "Pass",
        message: `${Math.round(decisionFlips)} of ${Math.round(compared)} decisions differ`,
      };
};

/** Evaluates a custom metric's `result <op> number` condition. */
export function conditionHolds(condition: string, value: number): boolean {
  const m = /^result\s*(<=|>=|==|!=|<|>)\s*(-?[0-9.eE+-]+)$/.exec(condition.trim());
  if (!m) throw new Error(`unsupported successCondition ${JSON.stringify(condition)}`);
  const rhs = Number(m[2]);
  switch (m[1]) {
    case "<":
      return value < rhs;
    case "<=":
      return value <= rhs;
    case ">":
      return value > rhs;
    case ">=":
      return value >= rhs;
    case "==":
      return value === rhs;
    default:
      return value !== rhs;
  }
}

function custom(m: Measurements, a: ResolvedAnalysis): MetricResult[] {
  return a.custom.map((spec) => {
    const got = m.custom.find((c) => c.name === spec.name);
    if (!got || got.value === undefined)
      return inconclusive(spec.name, got?.error ?? "no value returned");
    const pass = conditionHolds(spec.successCondition, got.value);
    return {
      name: spec.name,
      verdict: pass ? "Pass" : "Fail",
      value: got.value,
      threshold: spec.successCondition,
      message: `${spec.successCondition.replace("result", String(got.value))} is ${pass}`,
    };
  });
}

/** Judges one window of measurements against the analysis settings. */
export function judge(m: Measurements, a: ResolvedAnalysis): Verdict {
  const results = [
    ...[successRate, latency, scoreDrift, mirrorDisagreement]
      .map((j) => j(m, a))
      .filter((r): r is MetricResult => r !== undefined),
    ...custom(m, a),
  ];
  const passed = results.filter((r) => r.verdict === "Pass").length;
  const verdict = results.some((r) => r.verdict === "Fail")
    ? "Fail"
    : results.length === 0 || results.some((r) => r.verdict === "Inconclusive")
      ? "Inconclusive"
      : "Pass";
  const score = results.length ? Math.round((100 * passed) / results.length) : 0;
  return { verdict, metrics: results, windowStart: m.start, score };
}

/** The verdict when nothing could be measured (provider down, no window yet). */
export function noMeasurement(reason: string, at: Date): Verdict {
  return {
    verdict: "Inconclusive",
    metrics: [{ name: "provider", verdict: "Inconclusive", message: reason }],
    windowStart: at,
    score: 0,
  };
}
