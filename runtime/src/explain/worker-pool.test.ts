import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { trainedArtifact } from "../../test-support/trained-artifact.js";
import { readTreeEnsemble } from "./onnx-trees.js";
import { TreeExplainer } from "./tree-shap.js";
import { PoolClosedError, ShapWorkerPool } from "./worker-pool.js";

const fixture = trainedArtifact();
const ensemble = readTreeEnsemble(readFileSync(join(fixture.modelDir, "model.onnx")));
const width = (
  JSON.parse(readFileSync(join(fixture.modelDir, "model.json"), "utf8")) as {
    features: { encoded: string[] };
  }
).features.encoded.length;

describe("ShapWorkerPool", () => {
  it("splits a batch across workers and returns what one in-process explainer computes", async () => {
    const rows = 300;
    const x = Float32Array.from({ length: rows * width }, (_, i) =>
      i % 17 === 0 ? Number.NaN : ((i * 7919) % 1000) / 10,
    );
    const pool = new ShapWorkerPool(ensemble, width, 2);
    try {
      const [a, b] = await Promise.all([
        pool.explain(x, rows),
        pool.explain(x.subarray(0, width), 1),
      ]);
      const expected = new TreeExplainer(ensemble, width).explainBatch(x, rows);
      expect(a).toEqual(expected);
      expect(b).toEqual(expected.subarray(0, width + 1));
      // The caller's buffer is copied, never detached.
      expect(x.length).toBe(rows * width);
    } finally {
      await pool.close();
    }
    await expect(pool.explain(x, 1)).rejects.toBeInstanceOf(PoolClosedError);
  });

  it("fails requests instead of respawning forever when workers cannot start", async () => {
    const broken = { ...ensemble, cover: new Float64Array(ensemble.cover.length) };
    const pool = new ShapWorkerPool(broken, width, 1);
    try {
      await expect(pool.explain(new Float32Array(width), 1)).rejects.toThrow(/cover/);
    } finally {
      await pool.close();
    }
  });
});
