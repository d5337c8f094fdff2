import { readFileSync } from "node:fs";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { metricSamples as values } from "../../../test-support/metric-samples.js";
import { Reasons } from "../../api/reasons.js";
import { SCORING_TERMINAL_REASONS, ScoringRunMetrics } from "./scoring-run-metrics.js";

describe("ScoringRunMetrics", () => {
  it("creates every result/reason series and both row outcomes at zero", async () => {
    const registry = new Registry();
    new ScoringRunMetrics(registry);
    const completions = await values(registry, "churn_scoringrun_completions_total");
    expect(completions.map((v) => v.labels)).toEqual(
      Object.entries(SCORING_TERMINAL_REASONS).flatMap(([result, reasons]) =>
        reasons.map((reason) => ({ result, reason })),
      ),
    );
    const rows = await values(registry, "churn_scoringrun_rows_total");
    expect(rows.map((v) => [v.labels.outcome, v.value])).toEqual([
      ["scored", 0],
      ["rejected", 0],
    ]);
  });

  it("counts a completion, its duration and its rows; a run without rows or duration counts once", async () => {
    const registry = new Registry();
    const m = new ScoringRunMetrics(registry);
    m.completed("succeeded", Reasons.Succeeded, { scored: 9_990, rejected: 10 }, 42);
    m.completed("failed", Reasons.ShardFailed, undefined, undefined);
    const completions = await values(registry, "churn_scoringrun_completions_total");
    const count = (reason: string) => completions.find((v) => v.labels.reason === reason)?.value;
    expect(count("Succeeded")).toBe(1);
    expect(count("ShardFailed")).toBe(1);
    const rows = await values(registry, "churn_scoringrun_rows_total");
    expect(rows.map((v) => [v.labels.outcome, v.value])).toEqual([
      ["scored", 9_990],
      ["rejected", 10],
    ]);
    const hist = await values(registry, "churn_scoringrun_duration_seconds");
    const counts = hist.filter((v) => v.metricName?.endsWith("_count"));
    expect(counts.map((v) => [v.labels.result, v.value])).toEqual([["succeeded", 1]]);
    expect(hist.find((v) => v.metricName?.endsWith("_sum"))?.value).toBe(42);
  });

  it("covers every reason the outcome code can end a run with (a new one must be added here)", () => {
    const source = readFileSync(new URL("./scoring-outcome.ts", import.meta.url), "utf8");
    const used = new Set([...source.matchAll(/Reasons\.(\w+)/g)].map((m) => m[1]));
    // Reasons of a run still going (ModelNotResolved is also terminal when the model is gone).
    const notTerminal = ["NotStarted", "ShardsRunning", "ShardRetrying", "ModelResolved"];
    const terminal = new Set<string>(Object.values(SCORING_TERMINAL_REASONS).flat());
    const missing = [...used].filter(
      (r) => !terminal.has(r as string) && !notTerminal.includes(r as string),
    );
    expect(missing).toEqual([]);
  });
});
