import type { V1Deployment, V1Service } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { noProcessNode } from "../../../cluster/testing/index.js";
import { Resources } from "../../../operator/src/kube/resources.js";
import type { OperatorProcess } from "./support/operator-process.js";
import { rolloutSuite } from "./support/rollout-env.js";

// The step index lives in status: an operator killed mid-rollout, or a leader that goes away,
// leaves the rollout exactly where it was for the next one, with nothing created twice.
describe.skipIf(noProcessNode)("a rollout survives its operator", () => {
  const rollout = {
    trafficRouting: "replicas" as const,
    steps: [{ setWeight: 50 }, { pause: {} }],
    analysis: { intervalSeconds: 5, minSamples: 20 },
  };

  const bank = rolloutSuite("rollout-crash", { rollout: () => rollout });

  const children = async () => {
    const { client, ns } = bank.env;
    const deployments = await client.list<V1Deployment>(Resources.deployments, ns);
    const services = await client.list<V1Service>(Resources.services, ns);
    return {
      deployments: deployments.items
        .filter((d) => !d.metadata?.deletionTimestamp)
        .map((d) => `${d.metadata?.name}:${d.metadata?.uid}`)
        .sort(),
      services: services.items.map((s) => `${s.metadata?.name}:${s.metadata?.uid}`).sort(),
    };
  };

  // The operator that trained the versions goes: the test starts its own.
  beforeAll(async () => {
    await bank.op.kill("SIGTERM");
  });

  it("resumes at the same step with the same weight after a SIGKILL, and after a leader change", async () => {
    const load = bank.serviceLoad("v1", 300, 30).start();
    let first: OperatorProcess | undefined;
    try {
      first = await bank.env.startOperator("op-a");
      await bank.roll("v2", rollout);
      const paused = await bank.until(
        "paused at step 2",
        (m) => m.status?.rollout?.phase === "Paused",
      );
      const before = await children();
      const atPause = paused.status?.rollout;
      // Given a rollout paused for a promotion by hand, when its operator dies without cleanup...
      await first.kill("SIGKILL");
      const second = await bank.env.startOperator("op-b");
      // ...then the new one holds the same step and weight, and creates nothing new.
      const resumed = await bank.until(
        "analysed by the new operator",
        (m) =>
          Date.parse(m.status?.rollout?.analysis?.at ?? "0") >
          Date.parse(atPause?.analysis?.at ?? "0"),
      );
      expect(resumed.status?.rollout?.phase, resumed.status?.rollout?.message).toBe("Paused");
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
      const standby = await bank.env.startOperator("op-c");
      await second.kill("SIGTERM");
      const stillPaused = await bank.until(
        "analysed by the standby",
        (m) =>
          Date.parse(m.status?.rollout?.analysis?.at ?? "0") >
          Date.parse(resumed.status?.rollout?.analysis?.at ?? "0") + 1000,
      );
      expect(stillPaused.status?.rollout?.stepIndex).toBe(atPause?.stepIndex);
      expect(await children()).toEqual(before);
      expect(await standby.metric("leader_election_master_status")).toBe(1);

      // And a promotion by hand goes to the new leader.
      const m = await bank.current();
      await bank.act("promote", "resilience-1");
      const promoted = await bank.until("promoted", (x) => x.status?.rollout?.phase === "Promoted");
      expect(promoted.status?.rollout?.stable?.digest).toBe(bank.digest("v2"));
      expect(promoted.status?.rollout?.handledActions).toContain("resilience-1");
      expect(m.metadata?.uid).toBe(promoted.metadata?.uid);
    } finally {
      await load.stop();
    }
    // No request may fail: not across the operator's deaths, the leader change or the promotion.
    expect(load.stats.failures).toEqual([]);
  });
});
