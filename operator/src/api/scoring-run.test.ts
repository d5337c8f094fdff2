import { describe, expect, it } from "vitest";
import {
  batchRowsOf,
  maxRejectedPercentOf,
  parallelismOf,
  ScoringDefaults,
  shardsOf,
} from "./scoring-defaults.js";
import { scoringInputSchema, scoringRunSpecSchema } from "./scoring-run.js";
import { dataSourceFields } from "./training-run.js";

const minimal = {
  model: { digest: "a".repeat(64) },
  input: { persistentVolumeClaim: { claimName: "data", path: "customers.csv" } },
  output: { persistentVolumeClaim: { claimName: "scores", path: "nightly" } },
};

describe("ScoringRun spec", () => {
  it("defaults to what scoring-defaults.ts says (the CRD is generated from this schema)", () => {
    const spec = scoringRunSpecSchema.parse(minimal);
    expect(spec.shards).toBe(ScoringDefaults.shards);
    expect(spec.batchRows).toBe(ScoringDefaults.batchRows);
    expect(spec.maxRejectedPercent).toBe(ScoringDefaults.maxRejectedPercent);
    expect(spec.backoffLimitPerIndex).toBe(ScoringDefaults.backoffLimitPerIndex);
    expect(spec.activeDeadlineSeconds).toBe(ScoringDefaults.activeDeadlineSeconds);
    expect(spec.ttlSecondsAfterFinished).toBe(ScoringDefaults.ttlSecondsAfterFinished);
    expect(spec.output.format).toBe(ScoringDefaults.outputFormat);
    const scheduled = scoringRunSpecSchema.parse({ ...minimal, schedule: { cron: "0 2 * * *" } });
    expect(scheduled.schedule?.startingDeadlineSeconds).toBe(
      ScoringDefaults.startingDeadlineSeconds,
    );
    expect(scheduled.schedule?.historyLimit).toBe(ScoringDefaults.historyLimit);
  });

  it("takes its input from the TrainingRun's source kinds, exactly one of them (in CEL too)", () => {
    const rule = (
      scoringInputSchema.meta()?.["x-kubernetes-validations"] as { rule: string }[] | undefined
    )?.[0];
    for (const kind of Object.keys(dataSourceFields)) {
      expect(rule?.rule).toContain(`has(self.${kind})`);
      expect(Object.keys(scoringInputSchema.shape)).toContain(kind);
    }
    expect(() =>
      scoringRunSpecSchema.parse({ ...minimal, input: { url: "http://x/c.csv", format: "xlsx" } }),
    ).toThrow();
    expect(() =>
      scoringRunSpecSchema.parse({
        ...minimal,
        output: { persistentVolumeClaim: { claimName: "s", path: "../up" } },
      }),
    ).toThrow(/\.\./);
  });

  it("clamps what the getters are given", () => {
    expect(shardsOf(0)).toBe(1);
    expect(shardsOf(undefined)).toBe(ScoringDefaults.shards);
    expect(parallelismOf(4)).toBe(4);
    expect(parallelismOf(4, 2)).toBe(2);
    expect(parallelismOf(4, 10)).toBe(4);
    expect(batchRowsOf(0)).toBe(1);
    expect(maxRejectedPercentOf(250)).toBe(100);
    expect(maxRejectedPercentOf(undefined)).toBe(ScoringDefaults.maxRejectedPercent);
  });
});
