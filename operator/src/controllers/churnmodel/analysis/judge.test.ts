import { describe, expect, it } from "vitest";
import { analysisOf } from "../../../api/defaults.js";
import { conditionHolds, judge } from "./judge.js";
import type { HistogramWindow, Measurements, VariantWindow } from "./measurements.js";
import {
  chiSquareQuantile,
  countAbove,
  histogramQuantile,
  psi,
  quantileUpperBound,
  twoProportionZ,
  wilson,
} from "./statistics.js";

const LAT_BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, Infinity];
const PROB_BOUNDS = [...Array.from({ length: 19 }, (_, i) => (i + 1) * 0.05), Infinity];

/** A histogram window from per-bucket counts. */
function hist(bounds: number[], counts: number[]): HistogramWindow {
  let c = 0;
  return { bounds, cumulative: bounds.map((_, i) => (c += counts[i] ?? 0)) };
}
/** `n` latencies all in the bucket whose upper bound is `le` seconds. */
function latencies(n: number, le: number): HistogramWindow {
  return hist(
    LAT_BOUNDS,
    LAT_BOUNDS.map((b) => (b === le ? n : 0)),
  );
}
/** `n` probabilities spread as the weights say over the 20 buckets. */
function probabilities(n: number, weights: number[]): HistogramWindow {
  const total = weights.reduce((a, b) => a + b, 0);
  return hist(
    PROB_BOUNDS,
    weights.map((w) => Math.round((n * w) / total)),
  );
}
const flat = Array.from({ length: 20 }, () => 1);
const low = Array.from({ length: 20 }, (_, i) => (i < 5 ? 10 : 1));
const high = Array.from({ length: 20 }, (_, i) => (i >= 12 ? 10 : 1));

function variant(
  requests: number,
  errors: number,
  over: Partial<VariantWindow> = {},
): VariantWindow {
  return {
    requests,
    errors,
    latency: latencies(requests, 0.005),
    probability: probabilities(requests, flat),
    ...over,
  };
}
const window = (over: Partial<Measurements>): Measurements => ({
  start: new Date("2026-01-01T00:00:00Z"),
  end: new Date("2026-01-01T00:00:10Z"),
  stable: variant(1000, 0),
  canary: variant(200, 0),
  custom: [],
  ...over,
});
const metric = (m: Measurements, name: string, a = analysisOf({ minSamples: 50 })) =>
  judge(m, a).metrics.find((r) => r.name === name);

describe("statistics", () => {
  it("wilson bounds contain the rate and tighten with samples", () => {
    const small = wilson(48, 50);
    const big = wilson(4800, 5000);
    expect(small.low).toBeLessThan(0.96);
    expect(small.high).toBeGreaterThan(0.99);
    expect(big.high - big.low).toBeLessThan(small.high - small.low);
    expect(wilson(0, 0)).toEqual({ low: 0, high: 1 });
  });

  it("two-proportion z is large only for a real difference", () => {
    expect(twoProportionZ(2, 50, 0, 1000)).toBeGreaterThan(2.33);
    expect(twoProportionZ(1, 100, 10, 1000)).toBeLessThan(1);
    expect(twoProportionZ(50, 100, 10, 1000)).toBeGreaterThan(10);
  });

  it("chi-square quantiles are close to the tables", () => {
    expect(chiSquareQuantile(1)).toBeGreaterThan(6.3); // 6.635
    expect(chiSquareQuantile(10)).toBeCloseTo(23.209, 0);
    expect(chiSquareQuantile(19)).toBeCloseTo(36.191, 0);
  });

  it("histogram quantiles interpolate inside the bucket like histogram_quantile", () => {
    const h = hist([1, 2, 4, Infinity], [10, 10, 80, 0]);
    expect(histogramQuantile(0.5, h)).toBeCloseTo(2 + (2 * 30) / 80);
    expect(histogramQuantile(0.99, hist([1, 2, Infinity], [0, 0, 5]))).toBe(2);
    expect(histogramQuantile(0.99, hist([1, Infinity], [0, 0]))).toBeUndefined();
  });

  it("PSI is 0 for one distribution and large for a shifted one; bias removed for small samples", () => {
    expect(psi(probabilities(1000, flat), probabilities(1000, flat))?.raw).toBeCloseTo(0);
    const shifted = psi(probabilities(1000, low), probabilities(1000, high));
    expect(shifted?.adjusted).toBeGreaterThan(1);
    expect(shifted?.significant).toBe(true);
    const noisy = psi(probabilities(100, flat), probabilities(100, [...flat.slice(1), 2]));
    expect(noisy?.adjusted).toBe(0);
    expect(noisy?.significant).toBe(false);
  });
});

describe("judge", () => {
  it("passes a healthy canary on every built-in metric", () => {
    const v = judge(window({}), analysisOf({ minSamples: 50 }));
    expect(v.verdict).toBe("Pass");
    expect(v.metrics.map((m) => m.name)).toEqual(["successRate", "latencyP99Ms", "scoreDrift"]);
    expect(v.score).toBe(100);
  });

  it("does not roll back for two errors in fifty requests", () => {
    const m = metric(window({ canary: variant(50, 2) }), "successRate");
    expect(m?.verdict).toBe("Pass");
  });

  it("fails a real error regression, naming the rate and the floor", () => {
    const m = metric(window({ canary: variant(100, 30) }), "successRate");
    expect(m?.verdict).toBe("Fail");
    expect(m?.message).toMatch(/canary success rate 0\.7 .*below 0\.99 and worse than stable's 1/);
  });

  it("does not blame the canary for errors the stable version has too", () => {
    const m = metric(
      window({ stable: variant(1000, 300), canary: variant(100, 30) }),
      "successRate",
    );
    expect(m?.verdict).toBe("Pass");
  });

  it("reports whole samples for Prometheus's fractional counts (status holds integers)", () => {
    const v = judge(
      window({ canary: variant(10.6, 0), stable: variant(40.4, 0) }),
      analysisOf({ minSamples: 50 }),
    );
    for (const m of v.metrics)
      if (m.samples !== undefined) expect(Number.isInteger(m.samples)).toBe(true);
  });

  it("is inconclusive below minSamples, and the verdict is then never a pass", () => {
    const v = judge(window({ canary: variant(10, 0) }), analysisOf({ minSamples: 50 }));
    expect(v.verdict).toBe("Inconclusive");
    expect(v.metrics.find((m) => m.name === "successRate")?.message).toBe(
      "the canary served 10 requests (needs 50)",
    );
  });

  it("fails a slow canary on the ceiling and on the ratio beyond the tolerance", () => {
    const slow = metric(
      window({ canary: variant(200, 0, { latency: latencies(200, 0.5) }) }),
      "latencyP99Ms",
    );
    expect(slow?.verdict).toBe("Fail");
    expect(slow?.message).toMatch(/> 250 ms/);
    const relative = metric(
      window({ canary: variant(200, 0, { latency: latencies(200, 0.1) }) }),
      "latencyP99Ms",
    );
    expect(relative?.verdict).toBe("Fail");
    expect(relative?.message).toMatch(/x stable's/);
    const jitter = metric(
      window({ canary: variant(200, 0, { latency: latencies(200, 0.01) }) }),
      "latencyP99Ms",
    );
    expect(jitter?.verdict).toBe("Pass");
  });

  it("counts only observations certainly above a value, and bounds a quantile from above", () => {
    const h = hist(LAT_BOUNDS, [0, 0, 0, 90, 0, 0, 8, 0, 2, 0, 0, 0]);
    expect(countAbove(h, 0.25)).toBe(0); // the 2 in (0.1, 0.25] may be below 0.25
    expect(countAbove(h, 0.1)).toBe(2);
    expect(countAbove(h, 0.03)).toBe(2); // bound 0.05: the 8 in (0.025, 0.05] straddle it
    expect(countAbove(h, 0.02)).toBe(10);
    expect(countAbove(h, 5)).toBe(0);
    expect(countAbove(undefined, 0)).toBe(0);
    // 100 samples: the p99's upper bound is the largest bucket's top; 100k: near the p99
    expect(quantileUpperBound(0.99, h)).toBe(0.25);
    const big = hist(LAT_BOUNDS, [0, 0, 0, 99_000, 900, 100, 0, 0, 0, 0, 0, 0]);
    expect(quantileUpperBound(0.99, big)).toBeLessThan(0.01);
    expect(quantileUpperBound(0.99, big)).toBeGreaterThanOrEqual(histogramQuantile(0.99, big) ?? 1);
  });

  it("does not fail a canary on one slow request among a few dozen, but does on a slow tail", () => {
    const a = analysisOf({ minSamples: 20 });
    const oneSlow = hist(LAT_BOUNDS, [0, 0, 0, 39, 0, 0, 0, 0, 0, 1, 0, 0]);
    const m = metric(window({ canary: variant(40, 0, { latency: oneSlow }) }), "latencyP99Ms", a);
    // its p99 is that one request, over the 250 ms ceiling: a p99 of 40 is their maximum
    expect(m?.value).toBeGreaterThan(250);
    expect(m?.verdict).toBe("Pass");
    const tail = hist(LAT_BOUNDS, [0, 0, 0, 95, 0, 0, 0, 0, 0, 5, 0, 0]);
    const slow = metric(window({ canary: variant(100, 0, { latency: tail }) }), "latencyP99Ms", a);
    expect(slow?.verdict).toBe("Fail");
    expect(slow?.message).toMatch(
      /: 5 of 100 requests slower than 250 ms \(over 1% at 99% confidence\)$/,
    );
  });

  it("compares with stable's p99 upper bound, so a stable version with little traffic does not set a low bar", () => {
    const a = analysisOf({ minSamples: 20 });
    // stable: 30 requests, one of them in (50, 100] ms; canary: 4 of 100 in (50, 100] ms
    const stable = variant(30, 0, {
      latency: hist(LAT_BOUNDS, [0, 0, 0, 29, 0, 0, 0, 1, 0, 0, 0, 0]),
    });
    const canaryLat = hist(LAT_BOUNDS, [0, 0, 0, 96, 0, 0, 0, 4, 0, 0, 0, 0]);
    const canary = variant(100, 0, { latency: canaryLat });
    expect(metric(window({ stable, canary }), "latencyP99Ms", a)?.verdict).toBe("Pass");
    // the same canary against a stable version that served 20k requests, all under 5 ms
    const busy = variant(20_000, 0);
    const vs = metric(window({ stable: busy, canary }), "latencyP99Ms", a);
    expect(vs?.verdict).toBe("Fail");
    expect(vs?.message).toMatch(/x stable's .*: 4 of 100 requests slower than 30 ms/);
  });

  it("fails a canary whose scores drift from the stable version's", () => {
    const m = metric(
      window({
        stable: variant(1000, 0, { probability: probabilities(1000, low) }),
        canary: variant(200, 0, { probability: probabilities(200, high) }),
      }),
      "scoreDrift",
    );
    expect(m?.verdict).toBe("Fail");
    expect(m?.message).toMatch(/PSI \d/);
  });

  it("judges mirrored decisions only when something was mirrored", () => {
    expect(metric(window({}), "mirrorDisagreement")).toBeUndefined();
    expect(
      metric(window({ mirror: { compared: 400, decisionFlips: 100 } }), "mirrorDisagreement")
        ?.verdict,
    ).toBe("Fail");
    expect(
      metric(window({ mirror: { compared: 400, decisionFlips: 12 } }), "mirrorDisagreement")
        ?.verdict,
    ).toBe("Pass");
  });

  it("lets each metric be turned off", () => {
    const a = analysisOf({
      minSamples: 50,
      metrics: { successRate: { enabled: false }, scoreDrift: { enabled: false } },
    });
    expect(judge(window({ canary: variant(100, 90) }), a).metrics.map((m) => m.name)).toEqual([
      "latencyP99Ms",
    ]);
  });

  it("evaluates custom PromQL conditions and holds on a missing value", () => {
    const a = analysisOf({
      minSamples: 50,
      metrics: { custom: [{ name: "biz", query: "x", successCondition: "result < 0.1" }] },
    });
    expect(metric(window({ custom: [{ name: "biz", value: 0.05 }] }), "biz", a)?.verdict).toBe(
      "Pass",
    );
    expect(metric(window({ custom: [{ name: "biz", value: 0.5 }] }), "biz", a)?.verdict).toBe(
      "Fail",
    );
    expect(metric(window({ custom: [{ name: "biz", error: "down" }] }), "biz", a)).toMatchObject({
      verdict: "Inconclusive",
      message: "down",
    });
    expect(conditionHolds("result >= -1e3", -5)).toBe(true);
    expect(() => conditionHolds("1 < result", 0)).toThrow(/unsupported/);
  });
});

describe("false alarms at low traffic (seeded simulation)", () => {
  /** A small deterministic PRNG (mulberry32). */
  const rng = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  /** `n` draws of a churn-like probability (beta-ish: most low, a tail high). */
  const draws = (r: () => number, n: number, shift = 0) => {
    const counts = Array.from({ length: 20 }, () => 0);
    for (let i = 0; i < n; i++) {
      const p = Math.min(0.999, Math.max(0, r() ** 2.5 + shift));
      counts[Math.min(19, Math.floor(p * 20))] =
        (counts[Math.min(19, Math.floor(p * 20))] ?? 0) + 1;
    }
    return hist(PROB_BOUNDS, counts);
  };

  it("a canary scoring like stable fails scoreDrift in at most 2% of windows of 50-400 rows", () => {
    const r = rng(7);
    let alarms = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      const n = 50 + Math.floor(r() * 350);
      const m = window({
        stable: variant(n * 4, 0, { probability: draws(r, n * 4) }),
        canary: variant(n, 0, { probability: draws(r, n) }),
      });
      if (metric(m, "scoreDrift")?.verdict === "Fail") alarms++;
    }
    expect(alarms / trials).toBeLessThanOrEqual(0.02);
  });

  it("a canary shifted by 0.15 in probability is caught in almost every window of 200 rows", () => {
    const r = rng(11);
    let caught = 0;
    for (let t = 0; t < 100; t++) {
      const m = window({
        stable: variant(800, 0, { probability: draws(r, 800) }),
        canary: variant(200, 0, { probability: draws(r, 200, 0.15) }),
      });
      if (metric(m, "scoreDrift")?.verdict === "Fail") caught++;
    }
    expect(caught).toBeGreaterThanOrEqual(95);
  });

  /**
   * `n` request latencies: 2-8 ms, with a `spikes` share of 300-600 ms stalls (a GC pause, a
   * descheduled process on a busy node) and `tail` more of them the canary's own regression.
   */
  const durations = (r: () => number, n: number, spikes: number, tail = 0) => {
    const counts = LAT_BOUNDS.map(() => 0);
    for (let i = 0; i < n; i++) {
      const slow = r() < spikes + tail;
      const seconds = slow ? 0.3 + 0.3 * r() : 0.002 + 0.006 * r();
      const b = LAT_BOUNDS.findIndex((le) => seconds <= le);
      counts[b] = (counts[b] ?? 0) + 1;
    }
    return hist(LAT_BOUNDS, counts);
  };

  it("a canary with stable's rare 0.5% stalls fails latencyP99Ms in at most 1% of windows", () => {
    const r = rng(5);
    let alarms = 0;
    const trials = 400;
    const a = analysisOf({ minSamples: 20 });
    for (let t = 0; t < trials; t++) {
      const n = 20 + Math.floor(r() * 380);
      const m = window({
        stable: variant(n * 4, 0, { latency: durations(r, n * 4, 0.005) }),
        canary: variant(n, 0, { latency: durations(r, n, 0.005) }),
      });
      if (metric(m, "latencyP99Ms", a)?.verdict === "Fail") alarms++;
    }
    expect(alarms / trials).toBeLessThanOrEqual(0.01);
  });

  it("a canary that stalls 5% of its requests is caught in almost every window of 200", () => {
    const r = rng(9);
    let caught = 0;
    for (let t = 0; t < 100; t++) {
      const m = window({
        stable: variant(800, 0, { latency: durations(r, 800, 0.005) }),
        canary: variant(200, 0, { latency: durations(r, 200, 0.005, 0.05) }),
      });
      if (metric(m, "latencyP99Ms")?.verdict === "Fail") caught++;
    }
    expect(caught).toBeGreaterThanOrEqual(90);
  });

  it("a canary with stable's 0.5% error rate fails successRate in at most 1% of windows", () => {
    const r = rng(3);
    let alarms = 0;
    const trials = 400;
    const errors = (n: number) => Array.from({ length: n }).filter(() => r() < 0.005).length;
    for (let t = 0; t < trials; t++) {
      const n = 50 + Math.floor(r() * 450);
      const m = window({ stable: variant(n * 4, errors(n * 4)), canary: variant(n, errors(n)) });
      if (metric(m, "successRate")?.verdict === "Fail") alarms++;
    }
    expect(alarms / trials).toBeLessThanOrEqual(0.01);
  });
});
