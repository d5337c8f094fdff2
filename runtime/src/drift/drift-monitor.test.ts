import { describe, expect, it } from "vitest";
import type { Baseline } from "../artifact/baseline.js";
import { DriftMonitor, numericBin, PSI_EPSILON } from "./drift-monitor.js";

const baseline: Baseline = {
  features: {
    Age: { type: "numeric", bins: [null, 30, 40, 50, null], fractions: [0.25, 0.25, 0.25, 0.25] },
    Geography: {
      type: "categorical",
      categories: ["France", "Germany", "__other__"],
      fractions: [0.5, 0.5, 0],
    },
  },
  score: { bins: [0, 0.5, 1], fractions: [0.8, 0.2] },
};

describe("numericBin", () => {
  it("places values in [edge_i, edge_i+1) with open ends", () => {
    const edges = [null, 30, 40, 50, null];
    expect(numericBin(edges, -1e9)).toBe(0);
    expect(numericBin(edges, 29.9)).toBe(0);
    expect(numericBin(edges, 30)).toBe(1);
    expect(numericBin(edges, 49.99)).toBe(2);
    expect(numericBin(edges, 50)).toBe(3);
    expect(numericBin(edges, 1e9)).toBe(3);
  });
  it("clamps to the outer bins when the ends are finite", () => {
    expect(numericBin([0, 0.5, 1], 1)).toBe(1);
    expect(numericBin([0, 0.5, 1], -0.1)).toBe(0);
  });
});

describe("DriftMonitor", () => {
  it("reports zero PSI when live data matches the baseline", () => {
    const m = new DriftMonitor(baseline, 100, 1);
    for (const age of [25, 35, 45, 55]) {
      m.observe({ Age: age, Geography: "France" }, 0.1, false);
      m.observe({ Age: age, Geography: "Germany" }, 0.2, false);
    }
    const snap = m.snapshot();
    expect(snap.features.Age).toBeCloseTo(0, 12);
    expect(snap.features.Geography).toBeCloseTo(0, 12);
    expect(snap.positiveRate).toBe(0);
  });

  it("computes PSI with the epsilon floor for empty bins", () => {
    const m = new DriftMonitor(baseline, 100, 1);
    for (let i = 0; i < 10; i++) m.observe({ Age: 60, Geography: "Spain" }, 0.9, true);
    const snap = m.snapshot();
    const e = PSI_EPSILON;
    const expectedAge = 3 * (e - 0.25) * Math.log(e / 0.25) + (1 - 0.25) * Math.log(1 / 0.25);
    expect(snap.features.Age).toBeCloseTo(expectedAge, 10);
    // "Spain" is not a baseline category: it lands in __other__ (baseline 0 -> epsilon).
    const expectedGeo = 2 * (e - 0.5) * Math.log(e / 0.5) + (1 - e) * Math.log(1 / e);
    expect(snap.features.Geography).toBeCloseTo(expectedGeo, 10);
    expect(snap.positiveRate).toBe(1);
    expect(snap.score).toBeGreaterThan(1);
  });

  it("forgets rows that slid out of the window", () => {
    const m = new DriftMonitor(baseline, 10, 1);
    for (let i = 0; i < 10; i++) m.observe({ Age: 60, Geography: "France" }, 0.9, true);
    for (let i = 0; i < 10; i++) m.observe({ Age: 25, Geography: "France" }, 0.1, false);
    const snap = m.snapshot();
    expect(snap.windowRows).toBe(10);
    expect(snap.positiveRate).toBe(0);
  });

  it("skips missing values instead of counting them in a bin", () => {
    const m = new DriftMonitor(baseline, 10, 1);
    m.observe({ Age: null, Geography: "" }, 0.1, false);
    expect(m.snapshot().features.Age).toBeNull();
    expect(m.snapshot().features.Geography).toBeNull();
  });

  it("reports no PSI until the window holds enough rows to mean something", () => {
    const m = new DriftMonitor(baseline, 1000, 50);
    for (let i = 0; i < 49; i++) m.observe({ Age: 60, Geography: "France" }, 0.9, true);
    expect(m.snapshot().features.Age).toBeNull();
    expect(m.snapshot().score).toBeNull();
    m.observe({ Age: 60, Geography: "France" }, 0.9, true);
    expect(m.snapshot().features.Age).toBeGreaterThan(0);
  });

  it("leaves the windows after a batch as after its rows one by one, past the window's wrap", () => {
    const rows = Array.from({ length: 37 }, (_, i) => ({
      Age: i % 5 === 0 ? null : 20 + ((i * 7) % 45),
      Geography: ["France", "Germany", "Spain", ""][i % 4],
    }));
    const probabilities = rows.map((_, i) => ((i * 13) % 100) / 100);
    const positives = probabilities.map((p) => (p >= 0.5 ? 1 : 0));
    const oneByOne = new DriftMonitor(baseline, 10, 1);
    for (const [i, r] of rows.entries()) {
      oneByOne.observe(r, probabilities[i] as number, positives[i] === 1);
    }
    const batched = new DriftMonitor(baseline, 10, 1);
    for (let from = 0, size = 1; from < rows.length; from += size, size++) {
      const to = from + size;
      batched.observeBatch(
        rows.slice(from, to),
        probabilities.slice(from, to),
        positives.slice(from, to),
      );
    }
    expect(batched.snapshot()).toEqual(oneByOne.snapshot());
  });

  it("rejects a baseline whose fractions do not match its bins", () => {
    const bad = { ...baseline, score: { bins: [0, 1], fractions: [0.5, 0.5] } };
    expect(() => new DriftMonitor(bad, 10)).toThrow(/score/);
  });
});
