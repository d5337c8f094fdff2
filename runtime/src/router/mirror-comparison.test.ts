import { describe, expect, it } from "vitest";
import { compareScoreAnswers, MirrorMismatchError } from "./mirror-comparison.js";

const answer = (...rows: [number, boolean][]) => ({
  modelVersion: "x",
  predictions: rows.map(([probability, label]) => ({ probability, label, threshold: 0.5 })),
});

describe("compareScoreAnswers", () => {
  it("gives each row's probability difference and counts differing decisions", () => {
    const c = compareScoreAnswers(
      answer([0.2, false], [0.6, true], [0.49, false]),
      answer([0.25, false], [0.4, false], [0.51, true]),
    );
    expect(c.absDiffs.map((d) => Number(d.toFixed(6)))).toEqual([0.05, 0.2, 0.02]);
    expect(c.flips).toBe(2);
  });

  it("finds nothing between identical answers", () => {
    const a = answer([0.1, false], [0.9, true]);
    expect(compareScoreAnswers(a, a)).toEqual({ absDiffs: [0, 0], flips: 0 });
  });

  it("refuses answers that cannot be compared", () => {
    expect(() => compareScoreAnswers(answer([0.1, false]), answer())).toThrow(
      new MirrorMismatchError("stable answered 1 rows, canary 0"),
    );
    expect(() => compareScoreAnswers(answer([0.1, false]), { error: {} })).toThrow(
      "the canary answer has no predictions array",
    );
    expect(() =>
      compareScoreAnswers(
        { predictions: [{ probability: "0.1", label: false }] },
        answer([0.1, false]),
      ),
    ).toThrow("the stable answer's prediction 0 lacks a numeric probability and a boolean label");
  });
});
