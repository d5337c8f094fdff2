import type { V1Deployment, V1Service } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noProcessNode } from "../../../cluster/testing/index.js";
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
import { eventReasons } from "./support/status.js";
import { SteadyLoad } from "./support/steady-load.js";

// trafficRouting: replicas — no router: the canary gets a share of the pods behind the model's
// own Service, status says the weight that share really gives, and analysis still decides. A
// Service balances connections, not requests, so the load here opens one per request (a
// keep-alive client would stick to whichever pod it reached first: use the router for exact
// per-request weights).
describe.skipIf(noProcessNode)("canary rollout by replica share", () => {
  let env: OperatorEnv;
  let op: OperatorProcess;
  let versions: Record<string, TrainedVersion>;
  let serviceUrl: string;
  const rollout = {
    trafficRouting: "replicas" as const,
    steps: [{ setWeight: 50 }, { pause: { durationSeconds: 5 } }],
    analysis: { intervalSeconds: 5, minSamples: 20 },
  };

  beforeAll(async () => {
    env = await setupOperatorEnv("replicas");
    op = await env.startOperator("op-replicas", ["--allow-test-faults", "true"]);
    versions = await trainVersions(env);
    await apply(env.client, rolloutModel(env.ns, "bank", "v1", rollout));
    const first = await waitForRollout(
      env,
      "bank",
      "v1 stable",
      (m) =>
        m.status?.rollout?.stable?.digest === versions.v1?.digest && m.status?.phase === "Ready",
    );
    expect(first.status?.rollout?.canary).toBeUndefined();
    const svc = await env.client.get<V1Service>(Resources.services, env.ns, "bank");
    serviceUrl = `http://${svc?.spec?.clusterIP}:8080`;
  }, 600_000);

  afterAll(async () => env?.cleanup());

  it("promotes a healthy canary under steady load with no failed request", async () => {
    const load = new SteadyLoad(
      serviceUrl,
      customers(env, versions.v1?.digest ?? "", 500),
      40,
      false,
    );
    load.start();
    try {
      await apply(env.client, { ...rolloutModel(env.ns, "bank", "v2", rollout) });
      const mid = await waitForRollout(
        env,
        "bank",
        "canary with pods",
        (m) => (m.status?.rollout?.effectiveWeight ?? 0) > 0,
      );
      // One stable pod and one canary pod: the Service gives the canary half the requests.
      expect(mid.status?.rollout?.effectiveWeight).toBe(50);
      const done = await waitForRollout(
        env,
        "bank",
        "v2 promoted",
        (m) => m.status?.rollout?.phase === "Promoted",
      );
      expect(done.status?.rollout?.stable?.digest).toBe(versions.v2?.digest);
      expect(done.status?.rollout?.history?.[0]).toMatchObject({
        canary: versions.v2?.digest,
        outcome: "Promoted",
      });
    } finally {
      await load.stop();
    }
    expect(load.stats.failures).toEqual([]);
    expect(load.stats.ok).toBeGreaterThan(100);
    const reasons = await eventReasons(env.client, env.ns, "bank");
    for (const r of ["RolloutStarted", "AnalysisPassed", "StepAdvanced", "Promoted"])
      expect(reasons).toContain(r);
  });

  it("rolls back a canary that errors, naming the success rate", async () => {
    const load = new SteadyLoad(
      serviceUrl,
      customers(env, versions.v1?.digest ?? "", 500),
      40,
      false,
    );
    load.start();
    try {
      await apply(
        env.client,
        rolloutModel(env.ns, "bank", "v1", rollout, {
          "churn.mlops.dev/test-fault": "error-rate=1",
        }),
      );
      const rolled = await waitForRollout(
        env,
        "bank",
        "rolled back",
        (m) => m.status?.rollout?.phase === "RolledBack",
      );
      expect(rolled.status?.rollout?.stable?.digest).toBe(versions.v2?.digest);
      expect(rolled.status?.rollout?.message).toMatch(/successRate: canary success rate 0 /);
      expect(rolled.status?.rollout?.rolledBackDigests).toContain(versions.v1?.digest);
    } finally {
      await load.stop();
    }
    const m = await currentModel(env, "bank");
    expect(m.status?.rollout?.effectiveWeight).toBe(0);
    const deployments = await env.client.list<V1Deployment>(Resources.deployments, env.ns, {
      labelSelector: "churn.mlops.dev/churn-model=bank",
    });
    const live = deployments.items.filter((d) => !d.metadata?.deletionTimestamp);
    expect(live.map((d) => d.metadata?.name)).toEqual([`bank-${versions.v2?.digest.slice(0, 10)}`]);
    expect(op.logged("reconcile failed")).toBe(false);
  });
});
