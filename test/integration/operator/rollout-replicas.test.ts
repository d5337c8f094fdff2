import type { V1Deployment } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { noProcessNode } from "../../../cluster/testing/index.js";
import { Resources } from "../../../operator/src/kube/resources.js";
import { rolloutSuite } from "./support/rollout-env.js";
import { eventReasons } from "./support/status.js";

// trafficRouting: replicas — no router: the canary gets a share of the pods behind the model's
// own Service, status says the weight that share really gives, and analysis still decides. A
// Service balances connections, not requests, so the load here opens one per request (a
// keep-alive client would stick to whichever pod it reached first: use the router for exact
// per-request weights).
describe.skipIf(noProcessNode)("canary rollout by replica share", () => {
  const rollout = {
    trafficRouting: "replicas" as const,
    steps: [{ setWeight: 50 }, { pause: { durationSeconds: 5 } }],
    analysis: { intervalSeconds: 5, minSamples: 20 },
  };
  const bank = rolloutSuite("replicas", {
    rollout: () => rollout,
    operatorArgs: ["--allow-test-faults", "true"],
  });

  it("promotes a healthy canary under steady load with no failed request", async () => {
    expect(bank.first.status?.rollout?.canary).toBeUndefined();
    const load = bank.serviceLoad("v1", 500, 40).start();
    try {
      await bank.roll("v2", rollout);
      const mid = await bank.until(
        "canary with pods",
        (m) => (m.status?.rollout?.effectiveWeight ?? 0) > 0,
      );
      // One stable pod and one canary pod: the Service gives the canary half the requests.
      expect(mid.status?.rollout?.effectiveWeight).toBe(50);
      const done = await bank.until("v2 promoted", (m) => m.status?.rollout?.phase === "Promoted");
      expect(done.status?.rollout?.stable?.digest).toBe(bank.digest("v2"));
      expect(done.status?.rollout?.history?.[0]).toMatchObject({
        canary: bank.digest("v2"),
        outcome: "Promoted",
      });
    } finally {
      await load.stop();
    }
    expect(load.stats.failures).toEqual([]);
    expect(load.stats.ok).toBeGreaterThan(100);
    const reasons = await eventReasons(bank.env.client, bank.env.ns, "bank");
    for (const r of ["RolloutStarted", "AnalysisPassed", "StepAdvanced", "Promoted"])
      expect(reasons).toContain(r);
  });

  it("rolls back a canary that errors, naming the success rate", async () => {
    const load = bank.serviceLoad("v1", 500, 40).start();
    try {
      await bank.roll("v1", rollout, { "churn.mlops.dev/test-fault": "error-rate=1" });
      const rolled = await bank.until(
        "rolled back",
        (m) => m.status?.rollout?.phase === "RolledBack",
      );
      expect(rolled.status?.rollout?.stable?.digest).toBe(bank.digest("v2"));
      expect(rolled.status?.rollout?.message).toMatch(/successRate: canary success rate 0 /);
      expect(rolled.status?.rollout?.rolledBackDigests).toContain(bank.digest("v1"));
    } finally {
      await load.stop();
    }
    const m = await bank.current();
    expect(m.status?.rollout?.effectiveWeight).toBe(0);
    const { client, ns } = bank.env;
    const deployments = await client.list<V1Deployment>(Resources.deployments, ns, {
      labelSelector: "churn.mlops.dev/churn-model=bank",
    });
    const live = deployments.items.filter((d) => !d.metadata?.deletionTimestamp);
    expect(live.map((d) => d.metadata?.name)).toEqual([`bank-${bank.digest("v2").slice(0, 10)}`]);
    expect(bank.op.logged("reconcile failed")).toBe(false);
  });
});
