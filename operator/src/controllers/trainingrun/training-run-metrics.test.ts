import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { metricSamples as values } from "../../../test-support/metric-samples.js";
import { Reasons } from "../../api/reasons.js";
import { TERMINAL_REASONS, TrainingRunMetrics } from "./training-run-metrics.js";

describe("TrainingRunMetrics", () => {
  it("creates every result/reason series at zero, so the first failure shows as an increase", async () => {
    const registry = new Registry();
    new TrainingRunMetrics(registry);
    const series = await values(registry, "churn_trainingrun_completions_total");
    const expected = Object.entries(TERMINAL_REASONS).flatMap(([result, reasons]) =>
      reasons.map((reason) => ({ result, reason })),
    );
    expect(series.map((v) => v.labels)).toEqual(expected);
    expect(series.every((v) => v.value === 0)).toBe(true);
  });

  it("counts one completion per call under its result and reason, and observes the duration", async () => {
    const registry = new Registry();
    const m = new TrainingRunMetrics(registry);
    m.completed("failed", Reasons.GateFailed, "2026-01-01T00:00:00Z", "2026-01-01T00:01:30Z");
    m.completed("succeeded", Reasons.Succeeded, "2026-01-01T00:00:00Z", "2026-01-01T00:10:00Z");
    const count = async (labels: Record<string, string>) =>
      (await values(registry, "churn_trainingrun_completions_total"))
        .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
        .reduce((s, v) => s + v.value, 0);
    expect(await count({ result: "failed", reason: "GateFailed" })).toBe(1);
    expect(await count({ result: "failed" })).toBe(1);
    expect(await count({ result: "succeeded", reason: "Succeeded" })).toBe(1);
    const hist = await values(registry, "churn_trainingrun_duration_seconds");
    const sum = (result: string) =>
      hist.find((v) => v.metricName?.endsWith("_sum") && v.labels.result === result)?.value;
    expect(sum("failed")).toBe(90);
    expect(sum("succeeded")).toBe(600);
  });

  it("counts a run without a start time but observes no duration for it", async () => {
    const registry = new Registry();
    const m = new TrainingRunMetrics(registry);
    m.completed("failed", Reasons.OutcomeUnreadable, undefined, "2026-01-01T00:01:30Z");
    m.completed("failed", Reasons.TrainingFailed, "not a time", "2026-01-01T00:01:30Z");
    const hist = await values(registry, "churn_trainingrun_duration_seconds");
    expect(hist.filter((v) => v.metricName?.endsWith("_count"))).toEqual([]);
    const total = (await values(registry, "churn_trainingrun_completions_total")).reduce(
      (s, v) => s + v.value,
      0,
    );
    expect(total).toBe(2);
  });
});
