import type { V1Deployment, V1Job } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noProcessNode, waitFor } from "../../../cluster/testing/index.js";
import type { ChurnModel } from "../../../operator/src/api/churn-model.js";
import type { TrainingRun } from "../../../operator/src/api/training-run.js";
import { trainingRunType } from "../../../operator/src/controllers/shared/custom-resources.js";
import type { KubeObject } from "../../../operator/src/kube/kube-object.js";
import { Resources } from "../../../operator/src/kube/resources.js";
import { apply } from "./support/kube.js";
import { type OperatorEnv, seedTrainingRun, setupOperatorEnv } from "./support/operator-env.js";
import type { OperatorProcess } from "./support/operator-process.js";
import { eventReasons, trainerPods, waitForRunFinished } from "./support/status.js";

const artifactModel = (ns: string, name: string): ChurnModel => ({
  apiVersion: "churn.mlops.dev/v1alpha1",
  kind: "ChurnModel",
  metadata: { name, namespace: ns },
  // No training needed: the serving Deployment exists whether or not the artifact does.
  spec: {
    source: { artifact: { uri: `pvc://churn-models/${"0".repeat(64)}`, digest: "0".repeat(64) } },
    replicas: 0,
    explanations: { enabled: true },
  },
});

describe.skipIf(noProcessNode)("operator crash mid-training", () => {
  let env: OperatorEnv;
  beforeAll(async () => {
    env = await setupOperatorEnv("crash");
  });
  afterAll(async () => env?.cleanup());

  it("completes the run once, with one Job, after a SIGKILL and a restart", async () => {
    const first = await env.startOperator("op-1");
    await apply(env.client, seedTrainingRun(env.ns, "churn"));
    // Given the trainer is running...
    const job = await waitFor(
      "the training Job's pod to run",
      async () => {
        const r = await env.client.get<TrainingRun>(trainingRunType, env.ns, "churn");
        const j = await env.client.get<V1Job>(Resources.jobs, env.ns, "churn-train");
        return r?.status?.phase === "Training" ? j : undefined;
      },
      { timeoutMs: 120_000 },
    );
    // ...when the operator dies without any cleanup and a new one starts...
    await first.kill("SIGKILL");
    await env.startOperator("op-2");
    // ...then the same Job finishes the run, once.
    const run = await waitForRunFinished(env.client, env.ns, "churn");
    expect(run.status?.phase).toBe("Succeeded");
    const jobs = await env.client.list<V1Job>(Resources.jobs, env.ns);
    expect(jobs.items.map((j) => j.metadata?.uid)).toEqual([job.metadata?.uid]);
    expect(await trainerPods(env.client, env.ns, "churn")).toHaveLength(1);
    const reasons = await eventReasons(env.client, env.ns, "churn");
    expect(reasons.filter((r) => r === "JobCreated")).toHaveLength(1);
    expect(reasons.filter((r) => r === "Succeeded")).toHaveLength(1);
  });
});

describe("two operator replicas", () => {
  let env: OperatorEnv;
  let b: OperatorProcess | undefined;
  beforeAll(async () => {
    env = await setupOperatorEnv("ha");
  });
  afterAll(async () => env?.cleanup());

  /** Applies ChurnModel `name`; waits for `leader` to create its Deployment and count the pass. */
  const servedBy = async (leader: OperatorProcess, who: string, name: string) => {
    await apply(env.client, artifactModel(env.ns, name));
    await waitFor(`${who} to create ${name}'s Deployment`, () =>
      env.client.get<V1Deployment>(Resources.deployments, env.ns, `${name}-${"0".repeat(10)}`),
    );
    // The Deployment exists mid-pass; the pass is counted when it ends.
    await waitFor(
      `${who} to count its churnmodel reconcile`,
      async () =>
        (await leader.metric("controller_runtime_reconcile_total", { controller: "churnmodel" })) >
        0,
    );
  };

  it("only the leader reconciles; the standby takes over when the leader dies", async () => {
    const a = await env.startOperator("replica-a");
    await waitFor(
      "replica-a to lead",
      async () => (await a.metric("leader_election_master_status")) === 1,
    );
    const standby = await env.startOperator("replica-b");
    b = standby;
    await waitFor(
      "replica-b to be ready (warm cache) as a standby",
      async () => (await standby.probe("/readyz")) === 200,
    );

    await servedBy(a, "the leader", "one");
    expect(await standby.metric("controller_runtime_reconcile_total")).toBe(0);
    expect(await standby.metric("leader_election_master_status")).toBe(0);

    // The leader dies without releasing its Lease: the standby waits out the lease, then leads.
    await a.kill("SIGKILL");
    await waitFor(
      "replica-b to take over",
      async () => (await standby.metric("leader_election_master_status")) === 1,
      { timeoutMs: 60_000 },
    );
    await servedBy(standby, "the new leader", "two");
  });

  it("a gracefully stopped leader releases its Lease at once, with microsecond times", async () => {
    const c = await env.startOperator("replica-c");
    const lease = () =>
      env.client.get<KubeObject & { spec?: { holderIdentity?: string; renewTime?: string } }>(
        Resources.leases,
        "churn-operator-system",
        `churn-operator-${env.ns}`,
      );
    const held = await lease();
    expect(held?.spec?.holderIdentity).toBe("replica-b");
    // Lease times travel with microsecond precision, as the apiserver requires.
    expect(held?.spec?.renewTime).toMatch(/\.\d{6}Z$/);
    expect(await c.metric("leader_election_master_status")).toBe(0);
    expect(await b?.kill("SIGTERM")).toBe(0);
    // Right after exit the lease is released (or already taken by c), not left to expire.
    expect((await lease())?.spec?.holderIdentity).not.toBe("replica-b");
    await waitFor(
      "replica-c to lead",
      async () => (await c.metric("leader_election_master_status")) === 1,
    );
  });
});
