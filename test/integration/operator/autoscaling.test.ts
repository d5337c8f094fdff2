import type { V1ConfigMap, V1Deployment, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noProcessNode, waitFor } from "../../../cluster/testing/index.js";
import type { ChurnModel } from "../../../operator/src/api/churn-model.js";
import { churnModelType } from "../../../operator/src/controllers/shared/custom-resources.js";
import { KubeApiError } from "../../../operator/src/kube/kube-api-error.js";
import { Resources } from "../../../operator/src/kube/resources.js";
import { apply } from "./support/kube.js";
import { type OperatorEnv, seedTrainingRun, setupOperatorEnv } from "./support/operator-env.js";
import type { OperatorProcess } from "./support/operator-process.js";
import { waitForRunFinished } from "./support/status.js";

// spec.autoscaling on the local cluster, with the real kube-controller-manager's HPA controller:
// the operator creates one HorizontalPodAutoscaler per variant and then leaves the Deployment's
// size to it, through spec changes that re-apply the Deployment; turning autoscaling off hands
// the size back to spec.replicas. (No metrics API runs here, so the HPA acts on its bounds only:
// below minReplicas it scales up, which is all a test needs to see it in control.)
describe.skipIf(noProcessNode)("ChurnModel autoscaling with a real HPA controller", () => {
  let env: OperatorEnv;
  let op: OperatorProcess;
  let deployment = "";
  const digests: Record<string, string> = {};

  const model = (spec: Partial<ChurnModel["spec"]>): ChurnModel => ({
    apiVersion: "churn.mlops.dev/v1alpha1",
    kind: "ChurnModel",
    metadata: { name: "bank", namespace: env.ns },
    spec: {
      source: { trainingRun: { name: "bank" } },
      replicas: 1,
      explanations: { enabled: true },
      ...spec,
    },
  });
  const autoscaling = { minReplicas: 2, maxReplicas: 3, targetRequestsPerSecondPerPod: 50 };
  const getDeployment = () =>
    env.client.get<V1Deployment>(Resources.deployments, env.ns, deployment);
  /** Resizes a Deployment the way an HPA does: through its scale subresource. */
  const scale = (name: string, replicas: number) =>
    env.client.mergePatch(Resources.deployments, env.ns, name, { spec: { replicas } }, "scale");
  /** Field managers of a Deployment's spec.replicas, as `manager/operation`. */
  const replicasOwners = (d: V1Deployment | undefined) =>
    (d?.metadata?.managedFields ?? [])
      .filter((f) => JSON.stringify(f.fieldsV1 ?? {}).includes('"f:replicas"'))
      .map((f) => `${f.manager}/${f.operation}`);
  const replicasBecome = (n: number, why: string) =>
    waitFor(
      `${deployment} at ${n} replicas (${why})`,
      async () => {
        const d = await getDeployment();
        return d?.spec?.replicas === n && (d.status?.readyReplicas ?? 0) === n ? d : undefined;
      },
      {
        timeoutMs: 120_000,
        describe: async () => JSON.stringify((await getDeployment())?.spec?.replicas),
      },
    );
  const modelSays = (what: string, ok: (m: ChurnModel) => boolean) =>
    waitFor(
      `bank: ${what}`,
      async () => {
        const m = await env.client.get<ChurnModel>(churnModelType, env.ns, "bank");
        return m && ok(m) ? m : undefined;
      },
      { timeoutMs: 120_000 },
    );

  beforeAll(async () => {
    env = await setupOperatorEnv("autoscale");
    op = await env.startOperator("op-autoscale");
    for (const [name, trees] of [
      ["bank", 40],
      ["bank-v2", 50],
    ] as const)
      await apply(
        env.client,
        seedTrainingRun(env.ns, name, (s) => {
          s.model = { hyperparameters: { n_estimators: trees, max_depth: 3, learning_rate: 0.1 } };
          s.modelRef = undefined;
        }),
      );
    for (const name of ["bank", "bank-v2"]) {
      const run = await waitForRunFinished(env.client, env.ns, name);
      if (run.status?.phase !== "Succeeded") throw new Error(JSON.stringify(run.status));
      digests[name] = run.status.model?.digest ?? "";
    }
    deployment = `bank-${digests.bank?.slice(0, 10)}`;
  }, 400_000);
  afterAll(async () => {
    await env?.cleanup();
  });

  it("sizes the stable version with its own HPA, and the operator never fights its choice", async () => {
    await apply(env.client, model({ autoscaling }));
    await replicasBecome(2, "the HPA's floor");
    const hpa = await env.client.get<V2HorizontalPodAutoscaler>(
      Resources.horizontalPodAutoscalers,
      env.ns,
      deployment,
    );
    expect(hpa?.spec).toMatchObject({
      scaleTargetRef: { kind: "Deployment", name: deployment },
      minReplicas: 2,
      maxReplicas: 3,
      metrics: [{ type: "Pods", pods: { metric: { name: "http_requests_per_second" } } }],
    });
    await modelSays(
      "Ready at 2 pods",
      (m) => m.status?.phase === "Ready" && m.status.readyReplicas === 2,
    );

    // The autoscaler's decision (as the HPA writes it: the scale subresource) stands through a
    // spec change that makes the operator apply the Deployment again.
    await scale(deployment, 3);
    await replicasBecome(3, "scaled by hand like the HPA does");
    await apply(env.client, model({ autoscaling, threshold: 0.4 }));
    const after = await modelSays(
      "threshold change observed at 3 pods",
      (m) =>
        m.status?.observedGeneration === m.metadata?.generation &&
        m.status?.phase === "Ready" &&
        m.status.replicas === 3,
    );
    expect(after.status?.variants?.[0]).toMatchObject({ name: "stable", replicas: 3 });
    const d = await getDeployment();
    expect(d?.spec?.replicas).toBe(3);
    // Ownership, not luck: the operator's applies leave spec.replicas out (a stale cache could
    // otherwise write an old size back); the scaler that last changed it holds it.
    expect(replicasOwners(d)).not.toContain("churn-operator/Apply");
    expect(replicasOwners(d)).toContain("unknown/Update");
    expect(d?.spec?.template?.spec?.containers?.[0]?.env).toContainEqual({
      name: "CHURN_DECISION_THRESHOLD",
      value: "0.4",
    });

    // Below its floor, the real HPA controller scales it back up: it is in control.
    await scale(deployment, 1);
    await replicasBecome(2, "the HPA restoring its floor");
    expect(op.logged("reconcile failed")).toBe(false);
  }, 300_000);

  it("hands the size back to spec.replicas when autoscaling is turned off", async () => {
    await apply(env.client, model({ replicas: 1, threshold: 0.4 }));
    await replicasBecome(1, "spec.replicas again");
    await waitFor("the HPA removed", async () => {
      const h = await env.client.get(Resources.horizontalPodAutoscalers, env.ns, deployment);
      return h ? undefined : true;
    });
    await modelSays(
      "Ready at 1 pod",
      (m) => m.status?.phase === "Ready" && m.status.replicas === 1,
    );
  }, 200_000);

  it("gives a canary its own HPA sized to its share; scaling it leaves the router's weight alone", async () => {
    const rollout = {
      steps: [{ setWeight: 50 }, { pause: {} }],
      analysis: { intervalSeconds: 5 },
    };
    await apply(env.client, model({ autoscaling, rollout }));
    await modelSays("stable at 2 pods again", (m) => m.status?.readyReplicas === 2);
    await apply(env.client, {
      ...model({ autoscaling, rollout }),
      spec: {
        ...model({ autoscaling, rollout }).spec,
        source: { trainingRun: { name: "bank-v2" } },
      },
    });
    const canary = `bank-${digests["bank-v2"]?.slice(0, 10)}`;
    const bounds = async (name: string) =>
      (
        await env.client.get<V2HorizontalPodAutoscaler>(
          Resources.horizontalPodAutoscalers,
          env.ns,
          name,
        )
      )?.spec;
    await modelSays(
      "canary at weight 50",
      (m) =>
        m.status?.rollout?.canary?.digest === digests["bank-v2"] &&
        m.status?.rollout?.effectiveWeight === 50,
    );
    // The stable floor stays (full capacity during a canary); the canary's is half of it.
    expect(await bounds(deployment)).toMatchObject({ minReplicas: 2, maxReplicas: 3 });
    expect(await bounds(canary)).toMatchObject({ minReplicas: 1, maxReplicas: 3 });

    // The canary's autoscaler adds pods: its share of requests is still the router's 50%.
    await scale(canary, 3);
    await waitFor(
      `${canary} at 3 ready pods`,
      async () => {
        const d = await env.client.get<V1Deployment>(Resources.deployments, env.ns, canary);
        return d?.status?.readyReplicas === 3 ? d : undefined;
      },
      { timeoutMs: 120_000 },
    );
    const m = await modelSays("variants observed", (x) =>
      (x.status?.variants ?? []).some((v) => v.name === "canary" && v.replicas === 3),
    );
    expect(m.status?.rollout?.effectiveWeight).toBe(50);
    const traffic = await env.client.get<V1ConfigMap>(Resources.configMaps, env.ns, "bank-traffic");
    expect(JSON.parse(traffic?.data?.["traffic.json"] ?? "{}").canary).toMatchObject({
      weight: 50,
    });

    // Aborted: the canary goes, and its autoscaler with it.
    await env.client.mergePatch(churnModelType, env.ns, "bank", {
      metadata: {
        annotations: {
          "churn.mlops.dev/rollout-action": "abort",
          "churn.mlops.dev/rollout-action-id": "abort-1",
        },
      },
    });
    await waitFor(
      "the canary's HPA removed",
      async () => ((await bounds(canary)) ? undefined : true),
      { timeoutMs: 60_000 },
    );
    expect(await bounds(deployment)).toMatchObject({ minReplicas: 2 });
    expect(op.logged("reconcile failed")).toBe(false);
  }, 300_000);

  it.each([
    [
      "replicas routing",
      { autoscaling, rollout: { trafficRouting: "replicas" as const } },
      /autoscaling needs trafficRouting: router/,
    ],
    [
      "a CPU target without a CPU request",
      { autoscaling: { minReplicas: 1, maxReplicas: 2 } },
      /needs spec.resources.requests.cpu/,
    ],
    [
      "a floor above the ceiling",
      { autoscaling: { minReplicas: 4, maxReplicas: 2, targetRequestsPerSecondPerPod: 5 } },
      /minReplicas must not exceed autoscaling.maxReplicas/,
    ],
  ])("refuses autoscaling with %s, saying why", async (_what, spec, message) => {
    const bad = { ...model(spec), metadata: { name: "refused", namespace: env.ns } };
    const err = await apply(env.client, bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(String((err as Error).message)).toMatch(message);
  });
});
