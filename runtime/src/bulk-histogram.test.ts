// BulkHistogram exposes exactly what prom-client's Histogram exposes for the same observations.
import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { BulkHistogram } from "./bulk-histogram.js";

const buckets = [0.05, 0.1, 0.5, 0.95];

/** The same observations in both: prom-client's one value at a time, ours in `batches`. */
function both(values: number[], batches: number[][]) {
  const reference = new Registry();
  const ours = new Registry();
  const histogram = new Histogram({
    name: "p",
    help: "probabilities",
    buckets,
    registers: [reference],
  });
  const bulk = new BulkHistogram("p", "probabilities", buckets, [ours]);
  for (const v of values) histogram.observe(v);
  for (const batch of batches) bulk.observeAll(Float32Array.from(batch));
  return { reference, ours, bulk };
}

const f = Math.fround;
const cases: [string, number[][]][] = [
  ["nothing observed", []],
  [
    "one batch, on and between the bounds, above the last",
    [[0, f(0.05), 0.05, f(0.3), 0.5, 0.97, 1]],
  ],
  ["several batches and a single value", [[f(0.2), f(0.7)], [f(0.01)], [f(0.99), f(0.5), f(0.5)]]],
];

describe("BulkHistogram", () => {
  it.each(cases)("%s: the text and JSON of prom-client's Histogram", async (_name, batches) => {
    const { reference, ours } = both(
      batches.flat().map((v) => f(v)),
      batches,
    );
    expect(await ours.metrics()).toBe(await reference.metrics());
    const samples = async (r: Registry) =>
      (await r.getMetricsAsJSON())[0]?.values.map(({ labels, value }) => ({ labels, value }));
    expect(await samples(ours)).toEqual(await samples(reference));
  });

  it("reset forgets; NaN is refused", async () => {
    const { reference, ours, bulk } = both([f(0.3)], [[0.3]]);
    expect(await ours.metrics()).toBe(await reference.metrics());
    expect(() => bulk.observeAll([0.2, Number.NaN])).toThrow(/not a valid number/);
    ours.resetMetrics();
    expect(await ours.metrics()).toMatch(/p_count 0/);
  });
});
