import { describe, expect, it } from "vitest";
import type { ChurnModel } from "../../api/churn-model.js";
import { type ScoringRun, scoringRunSpecSchema } from "../../api/scoring-run.js";
import { resolveScoringModel } from "./resolve-scoring-model.js";

const d = (c: string) => c.repeat(64);
const io = {
  input: { url: "http://x/c.csv" },
  output: { persistentVolumeClaim: { claimName: "s", path: "out" } },
};
const run = (model: unknown, status?: ScoringRun["status"]): ScoringRun => ({
  metadata: { name: "n", namespace: "ns" },
  spec: scoringRunSpecSchema.parse({ model, ...io }),
  status,
});
const churnModel = (status: ChurnModel["status"]) =>
  ({ metadata: { name: "bank" }, status }) as ChurnModel;

describe("resolveScoringModel", () => {
  it("takes a digest from the operator's model store", () => {
    const r = resolveScoringModel(run({ digest: d("a") }), undefined, "churn-models");
    expect(r).toMatchObject({
      ok: true,
      model: { digest: d("a"), uri: `pvc://churn-models/${d("a")}` },
      location: { claimName: "churn-models", path: d("a") },
    });
  });

  it("takes the ChurnModel's stable version, not its canary", () => {
    const m = churnModel({
      serving: { digest: d("b"), uri: `pvc://churn-models/${d("b")}` },
      rollout: {
        stable: { digest: d("b"), uri: `pvc://churn-models/${d("b")}` },
        canary: { digest: d("c"), uri: `pvc://churn-models/${d("c")}` },
      },
    } as ChurnModel["status"]);
    const r = resolveScoringModel(run({ churnModelRef: { name: "bank" } }), m, "churn-models");
    expect(r).toMatchObject({ ok: true, model: { digest: d("b"), churnModel: "bank" } });
  });

  it("keeps the version recorded at the start, whatever the ChurnModel serves now", () => {
    const recorded = { digest: d("e"), uri: `pvc://churn-models/${d("e")}`, churnModel: "bank" };
    const m = churnModel({ serving: { digest: d("f"), uri: `pvc://churn-models/${d("f")}` } });
    const r = resolveScoringModel(
      run({ churnModelRef: { name: "bank" } }, { model: recorded }),
      m,
      "x",
    );
    expect(r).toMatchObject({ ok: true, model: recorded });
  });

  it("waits for a missing or versionless ChurnModel, fails on an unreadable artifact", () => {
    const ref = run({ churnModelRef: { name: "bank" } });
    expect(resolveScoringModel(ref, undefined, "x")).toMatchObject({ ok: false, terminal: false });
    expect(resolveScoringModel(ref, churnModel({}), "x")).toMatchObject({
      ok: false,
      terminal: false,
    });
    const s3 = churnModel({ serving: { digest: d("a"), uri: `s3://b/${d("a")}` } });
    expect(resolveScoringModel(ref, s3, "x")).toMatchObject({ ok: false, terminal: true });
  });
});
