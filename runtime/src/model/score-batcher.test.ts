import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { trainedArtifact } from "../../test-support/trained-artifact.js";
import { parseModelCard } from "../artifact/model-card.js";
import { OnnxScorer, type ScoreOutput } from "./onnx-scorer.js";
import { type RowScorer, ScoreBatcher } from "./score-batcher.js";

const fixture = trainedArtifact();
const card = parseModelCard(JSON.parse(readFileSync(join(fixture.modelDir, "model.json"), "utf8")));
const reference = JSON.parse(readFileSync(join(fixture.modelDir, "reference.json"), "utf8")) as {
  rows: Record<string, unknown>[];
};
const scorer = await OnnxScorer.create(readFileSync(join(fixture.modelDir, "model.onnx")), card);
afterAll(() => scorer.close());

/** The real scorer, counting the runs it is asked for. */
class CountingScorer implements RowScorer {
  runs: number[] = [];
  score(rows: readonly Record<string, unknown>[], withFeatures = false): Promise<ScoreOutput> {
    this.runs.push(rows.length);
    return scorer.score(rows, withFeatures);
  }
}

describe("ScoreBatcher", () => {
  it("shares one run among concurrent small requests and returns each its own rows", async () => {
    const counting = new CountingScorer();
    const batcher = new ScoreBatcher(counting, 64);
    const requests = Array.from({ length: 12 }, (_, i) =>
      reference.rows.slice(i * 3, i * 3 + 1 + (i % 3)),
    );
    const outs = await Promise.all(requests.map((rows, i) => batcher.score(rows, i % 2 === 0)));
    expect(counting.runs.length).toBeLessThan(requests.length);
    for (const [i, rows] of requests.entries()) {
      const alone = await scorer.score(rows, true);
      const out = outs[i] as ScoreOutput;
      expect(Array.from(out.probabilities)).toEqual(Array.from(alone.probabilities));
      expect(out.unknownCategories).toEqual(alone.unknownCategories);
      if (i % 2 === 0)
        expect(Array.from(out.features ?? [])).toEqual(Array.from(alone.features ?? []));
      else expect(out.features).toBeUndefined();
    }
  });

  it("keeps runs under the row cap and passes large requests straight through", async () => {
    const counting = new CountingScorer();
    const batcher = new ScoreBatcher(counting, 8);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => batcher.score(reference.rows.slice(i, i + 3))),
    );
    expect(Math.max(...counting.runs)).toBeLessThanOrEqual(8);
    counting.runs = [];
    await batcher.score(reference.rows.slice(0, 20));
    expect(counting.runs).toEqual([20]);
  });

  it("fails every request of a failed run", async () => {
    const failing: RowScorer = { score: () => Promise.reject(new Error("boom")) };
    const batcher = new ScoreBatcher(failing, 64);
    const results = await Promise.allSettled([batcher.score([{}]), batcher.score([{}])]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  });
});
