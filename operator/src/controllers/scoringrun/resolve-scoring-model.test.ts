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
  ({ metadata: { name: "bank" }, spec: { source: {} }, status }) as ChurnModel;

const pvcStore = { modelStorePvc: "churn-models" };
const s3Store = { uri: "s3://models/trained/", access: { credentialsSecret: "store" } };

describe("resolveScoringModel", () => {
  it("takes a digest from the operator's model store", () => {
    const r = resolveScoringModel(run({ digest: d("a") }), undefined, pvcStore);
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
    const r = resolveScoringModel(run({ churnModelRef: { name: "bank" } }), m, pvcStore);
    expect(r).toMatchObject({ ok: true, model: { digest: d("b"), churnModel: "bank" } });
  });

  it("keeps the version recorded at the start, whatever the ChurnModel serves now", () => {
    const recorded = { digest: d("e"), uri: `pvc://churn-models/${d("e")}`, churnModel: "bank" };
    const m = churnModel({ serving: { digest: d("f"), uri: `pvc://churn-models/${d("f")}` } });
    const r = resolveScoringModel(
      run({ churnModelRef: { name: "bank" } }, { model: recorded }),
      m,
      pvcStore,
    );
    expect(r).toMatchObject({ ok: true, model: recorded });
  });

  it("waits for a missing or versionless ChurnModel, fails on an unreadable artifact", () => {
    const ref = run({ churnModelRef: { name: "bank" } });
    expect(resolveScoringModel(ref, undefined, pvcStore)).toMatchObject({
      ok: false,
      terminal: false,
    });
    expect(resolveScoringModel(ref, churnModel({}), pvcStore)).toMatchObject({
      ok: false,
      terminal: false,
    });
    // An s3:// URI whose last segment is not the digest is no artifact of ours.
    const s3 = churnModel({ serving: { digest: d("a"), uri: `s3://models/${d("b")}/` } });
    expect(resolveScoringModel(ref, s3, pvcStore)).toMatchObject({ ok: false, terminal: true });
  });

  it("reads s3:// models with the operator's store's keys, only inside that store", () => {
    const stores = { ...pvcStore, modelStoreS3: s3Store };
    expect(resolveScoringModel(run({ digest: d("a") }), undefined, stores)).toMatchObject({
      ok: true,
      model: { uri: `s3://models/trained/${d("a")}/` },
      location: { scheme: "s3", access: { credentialsSecret: "store" } },
    });
    const ref = run({ churnModelRef: { name: "bank" } });
    const elsewhere = `s3://other/${d("c")}/`;
    const m = churnModel({ serving: { digest: d("c"), uri: elsewhere } });
    expect(resolveScoringModel(ref, m, stores)).toMatchObject({
      ok: true,
      location: { scheme: "s3", uri: elsewhere, access: undefined },
    });
  });
});
