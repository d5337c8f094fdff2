import { describe, expect, it } from "vitest";
import type { ChurnModel } from "../../api/churn-model.js";
import { desiredVariants } from "./desired-variants.js";

const m: ChurnModel = {
  metadata: { name: "bank", namespace: "ns" },
  spec: { source: { latestFrom: {} }, replicas: 3, explanations: { enabled: true } },
};
const v = (c: string) => ({ digest: c.repeat(64), uri: `pvc://m/${c.repeat(64)}` });

describe("desiredVariants", () => {
  it("runs one stable variant with the resolved version", () => {
    expect(
      desiredVariants(
        m,
        { state: "resolved", version: v("a"), reason: "SourceResolved", message: "" },
        v("b"),
      ),
    ).toEqual([{ name: "stable", version: v("a"), replicas: 3 }]);
  });
  it("keeps serving the current version while the source cannot resolve", () => {
    expect(
      desiredVariants(m, { state: "waiting", reason: "NoCandidate", message: "" }, v("b")),
    ).toEqual([{ name: "stable", version: v("b"), replicas: 3 }]);
  });
  it("runs nothing before any version exists", () => {
    expect(
      desiredVariants(m, { state: "failed", reason: "SourceFailed", message: "" }, undefined),
    ).toEqual([]);
  });
});
