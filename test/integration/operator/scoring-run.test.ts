import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  killContainerProcess,
  noProcessNode,
  testCluster,
  waitFor,
} from "../../../cluster/testing/index.js";
import type { ChurnModel } from "../../../operator/src/api/churn-model.js";
import type { ScoringRun } from "../../../operator/src/api/scoring-run.js";
import { scoringRunType } from "../../../operator/src/controllers/shared/custom-resources.js";
import { Resources } from "../../../operator/src/kube/resources.js";
import { hostVolume } from "./support/install.js";
import { apply } from "./support/kube.js";
import { addPartRows, customerRows, expectOnlineScoresEqual } from "./support/online-scores.js";
import { type OperatorEnv, seedTrainingRun, setupOperatorEnv } from "./support/operator-env.js";
import { eventReasons, waitForModelReady, waitForRunFinished } from "./support/status.js";
import { CUSTOMERS } from "./support/synthetic-customers.js";

// The batch proof on the local cluster: a model trained from the synthetic customers
// and served by a ChurnModel; a ScoringRun over the same customers with 4 shards writes one row
// per customer, each probability equal to the served model's POST /v1/score answer to the bit;
// a shard pod killed mid-run is retried and the output still has each customer once.

function scoringRun(ns: string, name: string, spec: Partial<ScoringRun["spec"]>): ScoringRun {
  return {
    apiVersion: "churn.mlops.dev/v1alpha1",
    kind: "ScoringRun",
    metadata: { name, namespace: ns },
    spec: {
      model: { churnModelRef: { name: "bank" } },
      input: { persistentVolumeClaim: { claimName: "churn-data", path: CUSTOMERS.path } },
      output: { persistentVolumeClaim: { claimName: "churn-scores", path: name } },
      shards: 4,
      ...spec,
    } as ScoringRun["spec"],
  };
}

function waitForScoring(env: OperatorEnv, name: string, timeoutMs = 300_000) {
  return waitFor(
    `ScoringRun ${name} to finish`,
    async () => {
      const r = await env.client.get<ScoringRun>(scoringRunType, env.ns, name);
      return r?.status?.phase === "Succeeded" || r?.status?.phase === "Failed" ? r : undefined;
    },
    {
      timeoutMs,
      describe: async () =>
        JSON.stringify((await env.client.get<ScoringRun>(scoringRunType, env.ns, name))?.status),
    },
  );
}

/** Every row of every part file in `dir`, by customer id (failing on a duplicate). */
async function partRows(dir: string): Promise<Map<string, number>> {
  const parts = readdirSync(dir).filter((f) => /^part-\d+\.parquet$/.test(f));
  const out = new Map<string, number>();
  for (const f of parts) await addPartRows(new Uint8Array(readFileSync(join(dir, f))).buffer, out);
  return out;
}

describe.skipIf(noProcessNode)("ScoringRun on a real cluster", () => {
  let env: OperatorEnv;
  let scoresDir: string;
  let digest: string;

  beforeAll(async () => {
    env = await setupOperatorEnv("score");
    scoresDir = mkdtempSync(join(tmpdir(), "churn-scores-"));
    await hostVolume(env.client, env.ns, "churn-scores", scoresDir);
    await env.startOperator("op-score");
    await apply(env.client, seedTrainingRun(env.ns, "churn"));
    const trained = await waitForRunFinished(env.client, env.ns, "churn");
    expect(trained.status?.phase, JSON.stringify(trained.status)).toBe("Succeeded");
    digest = trained.status?.model?.digest as string;
    await apply(env.client, {
      apiVersion: "churn.mlops.dev/v1alpha1",
      kind: "ChurnModel",
      metadata: { name: "bank", namespace: env.ns },
      spec: { source: { trainingRun: { name: "churn" } }, replicas: 1 },
    } as ChurnModel);
    await waitForModelReady(env.client, env.ns, "bank");
  }, 900_000);

  afterAll(async () => {
    await env?.cleanup();
    if (scoresDir) rmSync(scoresDir, { recursive: true, force: true });
  });

  it("scores every customer once over 4 shards, equal to the served model's POST /v1/score", async () => {
    await apply(env.client, scoringRun(env.ns, "nightly", {}));
    const run = await waitForScoring(env, "nightly");
    expect(run.status?.phase, JSON.stringify(run.status)).toBe("Succeeded");
    expect(run.status?.model).toEqual({
      digest,
      uri: `pvc://churn-models/${digest}`,
      churnModel: "bank",
    });
    expect(run.status?.shards).toMatchObject({ total: 4, succeeded: 4, failed: 0 });
    expect(run.status?.rows).toEqual({ scored: CUSTOMERS.rows, rejected: 0 });
    expect(run.status?.shardResults).toHaveLength(4);
    expect(run.status?.output).toEqual({
      location: "pvc://churn-scores/nightly",
      format: "parquet",
    });
    expect(run.status?.durationSeconds).toBeGreaterThanOrEqual(0);
    expect(await eventReasons(env.client, env.ns, "nightly")).toEqual(
      expect.arrayContaining(["ModelResolved", "JobCreated", "Succeeded"]),
    );

    const scored = await partRows(join(scoresDir, "nightly"));
    const { header, rows } = customerRows(env.dataDir);
    const idAt = header.indexOf("CustomerId");
    expect([...scored.keys()].sort()).toEqual(rows.map((r) => r[idAt]).sort());
    await expectOnlineScoresEqual(env.client, env.ns, "bank", env.dataDir, scored);
  });

  it("creates a run from a schedule when it fires, which scores like any other", async () => {
    await apply(
      env.client,
      scoringRun(env.ns, "every-minute", { shards: 2, schedule: { cron: "* * * * *" } } as never),
    );
    const template = await waitFor(
      "the schedule to create a run",
      async () => {
        const t = await env.client.get<ScoringRun>(scoringRunType, env.ns, "every-minute");
        return t?.status?.lastRun ? t : undefined;
      },
      { timeoutMs: 120_000 },
    );
    expect(template.status?.phase).toBe("Scheduled");
    const name = template.status?.lastRun as string;
    const stamp = name.slice("every-minute-".length);
    const run = await waitForScoring(env, name);
    expect(run.status?.phase, JSON.stringify(run.status)).toBe("Succeeded");
    expect(run.status?.rows).toEqual({ scored: CUSTOMERS.rows, rejected: 0 });
    expect(run.status?.output?.location).toBe(`pvc://churn-scores/every-minute/${stamp}`);
    expect(await eventReasons(env.client, env.ns, "every-minute")).toContain("RunScheduled");
    // Stop it: a template deleted takes its runs with it (owner references).
    await env.client.delete(scoringRunType, env.ns, "every-minute");
  });

  it("retries a killed shard pod and still writes each customer once", async () => {
    // One shard at a time, small batches: shard 0 is still running when it is killed.
    await apply(env.client, scoringRun(env.ns, "retried", { parallelism: 1, batchRows: 50 }));
    // A shard may finish between being seen running and the kill: then the next one is tried.
    await waitFor("a running shard pod killed", async () => {
      const pods = await env.client.list<V1Pod>(Resources.pods, env.ns, {
        labelSelector: "churn.mlops.dev/scoring-run=retried",
      });
      const victim = pods.items.find((p) =>
        p.status?.containerStatuses?.some((c) => c.name === "scorer" && c.state?.running),
      );
      if (!victim) return undefined;
      try {
        await killContainerProcess(
          testCluster(),
          env.ns,
          victim.metadata?.name as string,
          "scorer",
        );
        return true;
      } catch {
        return undefined;
      }
    });
    const run = await waitForScoring(env, "retried");
    expect(run.status?.phase, JSON.stringify(run.status)).toBe("Succeeded");
    expect(run.status?.rows).toEqual({ scored: CUSTOMERS.rows, rejected: 0 });
    const pods = await env.client.list<V1Pod>(Resources.pods, env.ns, {
      labelSelector: "churn.mlops.dev/scoring-run=retried",
    });
    expect(pods.items.filter((p) => p.status?.phase === "Failed").length).toBeGreaterThanOrEqual(1);
    const scored = await partRows(join(scoresDir, "retried"));
    expect(scored.size).toBe(CUSTOMERS.rows);
    expect(
      readdirSync(join(scoresDir, "retried")).filter((f) => f.startsWith("part-")),
    ).toHaveLength(4);
  });
});
