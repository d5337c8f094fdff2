import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeApiError } from "../../../operator/src/kube/kube-api-error.js";
import type { KubeClient } from "../../../operator/src/kube/kube-client.js";
import { Resources } from "../../../operator/src/kube/resources.js";
import { ensureNamespace, installCrds } from "./support/install.js";
import { adminClient, apply } from "./support/kube.js";
import { seedTrainingRun } from "./support/operator-env.js";
import { noCluster } from "./support/test-cluster.js";

// Given the generated CRDs installed in a real apiserver, when invalid objects are applied,
// then the apiserver itself refuses them with a message naming the problem.
describe.skipIf(noCluster)("CRD validation by the apiserver", () => {
  let client: KubeClient;
  const ns = `crdval-${Date.now().toString(36)}`;

  beforeAll(async () => {
    client = adminClient();
    await installCrds(client);
    await ensureNamespace(client, ns);
  });
  afterAll(async () => {
    await client?.delete(Resources.namespaces, undefined, ns);
  });

  async function rejection(obj: object): Promise<KubeApiError> {
    try {
      await apply(client, obj);
    } catch (err) {
      if (err instanceof KubeApiError) return err;
      throw err;
    }
    throw new Error("the apiserver accepted an invalid object");
  }

  const model = (spec: object) => ({
    apiVersion: "churn.mlops.dev/v1alpha1",
    kind: "ChurnModel",
    metadata: { name: "m", namespace: ns },
    spec,
  });

  it("accepts the example TrainingRun and fills the defaults", async () => {
    const run = seedTrainingRun(ns, "valid");
    delete (run.spec as Partial<typeof run.spec>).backoffLimit;
    const created = await apply(client, run);
    expect(created.spec.backoffLimit).toBe(2);
    expect(created.spec.ttlSecondsAfterFinished).toBe(86400);
  });

  it("rejects a bad feature type enum", async () => {
    const run = seedTrainingRun(ns, "bad-enum", (s) => {
      (s.schema.features[0] as { type: string }).type = "text";
    });
    const err = await rejection(run);
    expect(err.statusCode).toBe(422);
    expect(err.message).toMatch(/spec\.schema\.features\[0\]\.type: Unsupported value: "text"/);
  });

  it("rejects a missing target", async () => {
    const run = seedTrainingRun(ns, "no-target", (s) => {
      delete (s.schema as Partial<typeof s.schema>).target;
    });
    const err = await rejection(run);
    expect(err.statusCode).toBe(422);
    expect(err.message).toMatch(/spec\.schema\.target: Required value/);
  });

  it("rejects negative replicas", async () => {
    const err = await rejection(model({ source: { trainingRun: { name: "x" } }, replicas: -1 }));
    expect(err.statusCode).toBe(422);
    expect(err.message).toMatch(
      /spec\.replicas: Invalid value: -1: spec\.replicas in body should be greater than or equal to 0/,
    );
  });

  it("rejects a ChurnModel with two sources (CEL)", async () => {
    const err = await rejection(model({ source: { trainingRun: { name: "x" }, latestFrom: {} } }));
    expect(err.message).toContain(
      "set exactly one of source.trainingRun, source.latestFrom, source.artifact",
    );
  });

  it("rejects a dataset with no location and a fixed threshold with no value (CEL)", async () => {
    const noData = await rejection(
      seedTrainingRun(ns, "no-data", (s) => {
        s.dataset = {};
      }),
    );
    expect(noData.message).toContain("set exactly one of dataset.url");
    const threshold = await rejection(
      seedTrainingRun(ns, "fixed", (s) => {
        s.threshold = { policy: "fixed" };
      }),
    );
    expect(threshold.message).toContain("threshold.value is required with policy fixed");
  });

  it("rejects a change to a TrainingRun's spec (immutable)", async () => {
    await apply(client, seedTrainingRun(ns, "immutable"));
    const err = await rejection(
      seedTrainingRun(ns, "immutable", (s) => {
        s.split = { ...s.split, seed: 7 };
      }),
    );
    expect(err.message).toContain("spec is immutable");
  });

  it("rejects a malformed artifact digest", async () => {
    const err = await rejection(
      model({ source: { artifact: { uri: "pvc://m/x", digest: "xyz" } } }),
    );
    expect(err.message).toMatch(/spec\.source\.artifact\.digest.*should match/);
  });
});
