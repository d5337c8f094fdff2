// The hand-written JSON of /v1 answers is JSON.stringify's, byte for byte, whatever the rows hold.
import { describe, expect, it } from "vitest";
import type { Prediction } from "../model/model-service.js";
import { PredictionsAnswer } from "./predictions-answer.js";

const digest = "ab".repeat(32);

/** A prediction with its keys in the order ModelService.predict sets them. */
function prediction(probability: number, extra: Partial<Prediction> = {}): Prediction {
  const threshold = extra.threshold ?? 0.5;
  const p: Prediction = {
    probability,
    label: probability >= threshold,
    threshold,
    modelVersion: extra.modelVersion ?? digest,
  };
  if (extra.id !== undefined) p.id = extra.id;
  if (extra.unknownCategories) p.unknownCategories = extra.unknownCategories;
  if (extra.explanation) p.explanation = extra.explanation;
  return p;
}

const explanation = {
  baseValue: -1.25,
  logOdds: 0.3,
  contributions: { Age: 0.5, 'Geo"graphy': -0.1 },
  topPositive: [{ feature: "Age", value: 61, contribution: 0.5 }],
  topNegative: [{ feature: 'Geo"graphy', value: "Spain", contribution: -0.1 }],
};

const cases: [string, PredictionsAnswer][] = [
  ["one plain row", new PredictionsAnswer(digest, undefined, [prediction(0.25)])],
  [
    "float32 probabilities at the edges, both labels",
    new PredictionsAnswer(
      digest,
      undefined,
      [0, 1, Math.fround(1e-7), Math.fround(0.1), Math.fround(0.5), 5e-324].map((p) =>
        prediction(p),
      ),
    ),
  ],
  [
    "ids of both kinds, escaped characters, unknown categories",
    new PredictionsAnswer(digest, undefined, [
      prediction(0.7, { id: 'C-"1"\\\n\u2028é' }),
      prediction(0.2, { id: 15634602 }),
      prediction(0.9, { id: "x", unknownCategories: ["Geography", "Gender"] }),
    ]),
  ],
  [
    "another threshold and version part way through",
    new PredictionsAnswer(digest, undefined, [
      prediction(0.4, { threshold: 0.35 }),
      prediction(0.4, { threshold: 0.35, modelVersion: "other" }),
      prediction(0.4),
    ]),
  ],
  [
    "explained rows",
    new PredictionsAnswer(digest, "probability-log-odds", [
      prediction(0.6, { id: "a", explanation }),
      prediction(0.1, { explanation }),
    ]),
  ],
  ["no model version", new PredictionsAnswer(undefined, undefined, [prediction(0.5)])],
];

describe("PredictionsAnswer.json", () => {
  it.each(cases)("%s: equals JSON.stringify", (_name, answer) => {
    expect(answer.json()).toBe(JSON.stringify(answer));
    // And JSON.stringify of the answer is the body the route built before.
    const { modelVersion, explains, predictions } = answer;
    const plain = { modelVersion, ...(explains ? { explains } : {}), predictions };
    expect(answer.json()).toBe(JSON.stringify(plain));
  });
});
