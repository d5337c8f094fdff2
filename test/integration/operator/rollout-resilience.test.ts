import type { V1Deployment, V1Service } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noProcessNode } from "../../../cluster/testing/index.js";
import type { ChurnModel } from "../../../operator/src/api/churn-model.js";
import { churnModelType } from "../../../operator/src/controllers/shared/custom-resources.js";
import { Resources } from "../../../operator/src/kube/resources.js";
import { apply } from "./support/kube.js";
import { type OperatorEnv, setupOperatorEnv } from "./support/operator-env.js";
import type { OperatorProcess } from "./support/operator-process.js";
import {
  currentModel,
  customers,
  rolloutModel,
  type TrainedVersion,
  trainVersions,
  waitForRollout,
} from "./support/rollout-env.js";
import { SteadyLoad } from "./support/steady-load.js";

// The step index lives in status: an operator killed mid-rollout, or a leader that goes away,
// leaves the rollout exactly where it was for the next one, with nothing created twice.
describe.skipIf(noProcessNode)("a rollout survives its operator", () => {
  let env: OperatorEnv;
  let versions: Record<string, TrainedVersion>;
  let serviceUrl: string;
  const rollout = {
    trafficRouting: "replicas" as const,
    steps: [{ setWeight: 50 }, { pause: {} }],
    analysis: { intervalSeconds: 5, minSamples: 20 },
  };

  const children = async () => {
    const deployments = await env.client.list<V1Deployment>(Resources.deployments, env.ns);
    const services = await env.client.list<V1Service>(Resources.services, env.ns);
    return {
      deployments: deployments.items
        .filter((d) => !d.metadata?.deletionTimestamp)
        .map((d) => `${d.metadata?.name}:${d.metadata?.uid}`)
        .sort(),
      services: services.items.map((s) => `${s.metadata?.name}:${s.metadata?.uid}`).sort(),
    };
  };

  beforeAll(async () => {
    env = await setupOperatorEnv("rollout-crash");
    const trainer = await env.startOperator("op-train");
    versions = await trainVersions(env);
    await apply(env.client, rolloutModel(env.ns, "bank", "v1", rollout));
    await waitForRollout(env, "bank", "v1 stable", (m) => m.status?.phase === "Ready");
    await trainer.kill("SIGTERM");
    const svc = await env.client.get<V1Service>(Resources.services, env.ns, "bank");
    serviceUrl = `http://${svc?.spec?.clusterIP}:8080`;
  }, 600_000);

  afterAll(async () => env?.cleanup());

  it("resumes at the same step with the same weight after a SIGKILL, and after a leader change", async () => {
    const load = new SteadyLoad(
      serviceUrl,
      customers(env, versions.v1?.digest ?? "", 300),
      30,
      false,
    );
    load.start();
    let first: OperatorProcess | undefined;
    try {
      first = await env.startOperator("op-a");
      await apply(env.client, rolloutModel(env.ns, "bank", "v2", rollout));
      const paused = await waitForRollout(
        env,
        "bank",
        "paused at step 2",
        (m) => m.status?.rollout?.phase === "Paused",
      );
      const before = await children();
      const atPause = paused.status?.rollout;
      // Given a rollout paused for a promotion by hand, when its operator dies without cleanup...
      await first.kill("SIGKILL");
      const second = await env.startOperator("op-b");
      // ...then the new one holds the same step and weight, and creates nothing new.
      const resumed = await waitForRollout(
        env,
        "bank",
        "analysed by the new operator",
        (m) =>
          Date.parse(m.status?.rollout?.analysis?.at ?? "0") >
          Date.parse(atPause?.analysis?.at ?? "0"),
      );
      expect(resumed.status?.rollout).toMatchObject({
        phase: "Paused",
        stepIndex: atPause?.stepIndex,
        stepStartedAt: atPause?.stepStartedAt,
        desiredWeight: 50,
        canary: atPause?.canary,
      });
      expect(resumed.status?.rollout?.effectiveWeight).toBe(atPause?.effectiveWeight);
      expect(await children()).toEqual(before);

      // A standby joins; the leader goes away; the standby leads and the rollout still holds.
      const standby = await env.startOperator("op-c");
      await second.kill("SIGTERM");
      const stillPaused = await waitForRollout(
        env,
        "bank",
        "analysed by the standby",
        (m) =>
          Date.parse(m.status?.rollout?.analysis?.at ?? "0") >
          Date.parse(resumed.status?.rollout?.analysis?.at ?? "0") + 1000,
      );
      expect(stillPaused.status?.rollout?.stepIndex).toBe(atPause?.stepIndex);
      expect(await children()).toEqual(before);
      expect(await standby.metric("leader_election_master_status")).toBe(1);

      // And a promotion by hand goes to the new leader.
      const m = await currentModel(env, "bank");
      await env.client.apply(
        churnModelType,
        {
          apiVersion: "churn.mlops.dev/v1alpha1",
          kind: "ChurnModel",
          metadata: {
            name: "bank",
            namespace: env.ns,
            annotations: {
              "churn.mlops.dev/rollout-action": "promote",
              "churn.mlops.dev/rollout-action-id": "resilience-1",
            },
          },
        } as unknown as ChurnModel,
        { fieldManager: "resilience-test", force: true },
      );
      const promoted = await waitForRollout(
        env,
        "bank",
        "promoted",
        (x) => x.status?.rollout?.phase === "Promoted",
      );
      expect(promoted.status?.rollout?.stable?.digest).toBe(versions.v2?.digest);
      expect(promoted.status?.rollout?.handledActions).toContain("resilience-1");
      expect(m.metadata?.uid).toBe(promoted.metadata?.uid);
    } finally {
      await load.stop();
    }
    expect(load.stats.failures).toEqual([]);
  });
});
