import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { trainedArtifact } from "../../test-support/trained-artifact.js";
import type { ModelCard } from "../artifact/model-card.js";
import { OnnxTreeError, readTreeEnsemble, SplitMode } from "./onnx-trees.js";
import { ProtobufError } from "./protobuf-reader.js";

const fixture = trainedArtifact();
const card = JSON.parse(readFileSync(join(fixture.modelDir, "model.json"), "utf8")) as ModelCard & {
  hyperparameters: { n_estimators: number; max_depth: number };
};

describe("readTreeEnsemble on the trainer's model.onnx", () => {
  const t = readTreeEnsemble(readFileSync(join(fixture.modelDir, "model.onnx")));

  it("finds every tree with its covers, splits and leaves", () => {
    expect(t.opType).toMatch(/^TreeEnsemble(Classifier|Regressor)$/);
    expect(t.roots.length).toBe(card.hyperparameters.n_estimators);
    expect(t.maxDepth).toBeLessThanOrEqual(card.hyperparameters.max_depth);
    expect(t.featureCount).toBeLessThanOrEqual(card.features.encoded.length);
    expect(t.postTransform).toBe("LOGISTIC");
    for (let i = 0; i < t.cover.length; i++) {
      expect(t.cover[i]).toBeGreaterThan(0);
      if (t.mode[i] === SplitMode.LEAF) continue;
      expect(t.mode[i]).toBe(SplitMode.BRANCH_LT);
      // xgboost covers add up: a node's cover is its children's sum.
      const children =
        (t.cover[t.trueChild[i] as number] as number) +
        (t.cover[t.falseChild[i] as number] as number);
      expect(Math.abs(children - (t.cover[i] as number)) / (t.cover[i] as number)).toBeLessThan(
        1e-4,
      );
    }
  });

  it("rejects bytes that are not an ONNX model with a tree ensemble", () => {
    expect(() => readTreeEnsemble(new TextEncoder().encode("definitely not protobuf"))).toThrow(
      ProtobufError,
    );
    expect(() => readTreeEnsemble(Uint8Array.from([0x08, 0x07]))).toThrow(OnnxTreeError);
  });
});
