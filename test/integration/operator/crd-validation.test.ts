import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testCluster } from "../../../cluster/testing/index.js";
import type { TrainingRun } from "../../../operator/src/api/training-run.js";
import { trainingRunType } from "../../../operator/src/controllers/shared/custom-resources.js";
import { KubeApiError } from "../../../operator/src/kube/kube-api-error.js";
import type { KubeClient } from "../../../operator/src/kube/kube-client.js";
import { Resources } from "../../../operator/src/kube/resources.js";
import { ensureNamespace, installCrds } from "./support/install.js";
import { adminClient, apply } from "./support/kube.js";
import { seedTrainingRun } from "./support/operator-env.js";

// Given the generated CRDs installed in a real apiserver, when invalid objects are applied,
// then the apiserver itself refuses them with a message naming the problem.
describe("CRD validation by the apiserver", () => {
  let client: KubeClient;
  const ns = `crdval-${Date.now().toString(36)}`;

  beforeAll(async () => {
    client = adminClient(testCluster().kc);
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

  // No operator watches this namespace: the test plays the operator's part of starting a run
  // (the status write recording jobName, as the controller does before it creates the Job).
  it("lets a TrainingRun's spec change until the run starts, then refuses it (CEL)", async () => {
    const created = await apply(client, seedTrainingRun(ns, "editable"));
    const edited = await apply(
      client,
      seedTrainingRun(ns, "editable", (s) => {
        s.split = { ...s.split, seed: 7 };
      }),
    );
    expect(edited.spec.split?.seed).toBe(7);
    expect(edited.metadata?.generation).toBe((created.metadata?.generation ?? 0) + 1);

    // Starting is conditional on the resourceVersion the operator read: a start based on the
    // spec before the edit conflicts instead of sealing a spec the Job would not match.
    const start = (resourceVersion?: string) =>
      client.apply(
        trainingRunType,
        {
          apiVersion: "churn.mlops.dev/v1alpha1",
          kind: "TrainingRun",
          metadata: { name: "editable", namespace: ns, resourceVersion },
          status: { phase: "Pending", jobName: "editable-train" },
        },
        { fieldManager: "churn-operator", force: true, subresource: "status" },
      );
    const stale = await start(created.metadata?.resourceVersion).catch((e: unknown) => e);
    expect(stale instanceof KubeApiError && stale.conflict, String(stale)).toBe(true);
    const started = await start(edited.metadata?.resourceVersion);
    expect(started.status?.jobName).toBe("editable-train");

    const err = await rejection(
      seedTrainingRun(ns, "editable", (s) => {
        s.split = { ...s.split, seed: 8 };
      }),
    );
    expect(err.statusCode).toBe(422);
    expect(err.message).toMatch(
      /spec: Forbidden: spec is immutable once the run has started \(status\.jobName is set\); create a new TrainingRun instead/,
    );
    // Metadata stays editable, and status writes (the spec untouched) still pass the rule.
    const labelled = await apply(client, {
      ...seedTrainingRun(ns, "editable", (s) => {
        s.split = { ...s.split, seed: 7 };
      }),
      metadata: { name: "editable", namespace: ns, labels: { team: "risk" } },
    });
    expect(labelled.metadata?.labels?.team).toBe("risk");
    expect((await start()).status?.phase).toBe("Pending");
    const current = await client.get<TrainingRun>(trainingRunType, ns, "editable");
    expect(current?.spec.split?.seed).toBe(7);
  });

  it("rejects a malformed artifact digest", async () => {
    const err = await rejection(
      model({ source: { artifact: { uri: "pvc://m/x", digest: "xyz" } } }),
    );
    expect(err.message).toMatch(/spec\.source\.artifact\.digest.*should match/);
  });
});
