// `npm run bench -- rollout`: how long a visible fault keeps answering, at the default rollout
// settings (analysis every 10 s, 100 samples per variant, mirror first), on the local cluster.
// A canary whose runtime answers every scoring request with a 500 is rolled out under steady
// load through the router; "visible" is the moment the operator gives the ready canary traffic
// (status.rollout.mirrorPercent > 0), "weight 0" the moment status says RolledBack (the router
// follows its ConfigMap within milliseconds). Compared with Flagger's default analysis
// interval of 60 s (its first failed check cannot come sooner; with its documented threshold
// of 5 failed checks a rollback takes about 5 minutes). Flagger cannot run here (no container
// runtime), so its figure is its documented default, not a measurement.
//
//   npm run bench -- rollout [--trials 3] [--rps 30]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { acquireCluster, releaseCluster } from "../../cluster/index.js";
import { waitFor } from "../../cluster/testing/wait-for.js";
import type { ChurnModel } from "../../operator/src/api/churn-model.js";
import type { TrainingRun } from "../../operator/src/api/training-run.js";
import { churnModelType } from "../../operator/src/controllers/shared/custom-resources.js";
import { Resources } from "../../operator/src/kube/resources.js";
import { prepareOperatorNamespace } from "../../test/integration/operator/support/install.js";
import { adminClient, apply } from "../../test/integration/operator/support/kube.js";
import { namespacedOperator } from "../../test/integration/operator/support/operator-process.js";
import { waitForRunFinished } from "../../test/integration/operator/support/status.js";
import { SteadyLoad } from "../../test/integration/operator/support/steady-load.js";
import { synthesize } from "../../test/integration/operator/support/synthetic-customers.js";
import { numericOptions } from "../numeric-options.mjs";

const FLAGGER_DEFAULT_INTERVAL_S = 60;
const FLAGGER_DEFAULT_THRESHOLD = 5;

const { trials, rps } = numericOptions(
  "options: --trials N (default 3) --rps N (load, default 30)",
  {
    trials: 3,
    rps: 30,
  },
);
const log = (m: string) => process.stdout.write(`[rollout] ${m}\n`);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

function trainingRun(ns: string, name: string, depth: number): TrainingRun {
  return {
    apiVersion: "churn.mlops.dev/v1alpha1",
    kind: "TrainingRun",
    metadata: { name, namespace: ns },
    spec: {
      dataset: { persistentVolumeClaim: { claimName: "churn-data", path: "customers.csv" } },
      schema: {
        idColumn: "CustomerId",
        target: { column: "Exited", positive: 1 },
        drop: ["RowNumber", "Surname", "Complain"],
        features: [
          { name: "CreditScore", type: "integer" },
          { name: "Geography", type: "categorical" },
          { name: "Gender", type: "categorical" },
          { name: "Age", type: "integer" },
          { name: "Tenure", type: "integer" },
          { name: "Balance", type: "numeric" },
          { name: "NumOfProducts", type: "integer" },
          { name: "IsActiveMember", type: "boolean" },
        ],
      },
      model: { hyperparameters: { n_estimators: 60, max_depth: depth } },
      gates: { minRocAuc: 0.7 },
    } as unknown as TrainingRun["spec"],
  };
}

function churnModel(ns: string, run: string, annotations: Record<string, string>): ChurnModel {
  return {
    apiVersion: "churn.mlops.dev/v1alpha1",
    kind: "ChurnModel",
    metadata: { name: "bank", namespace: ns, annotations },
    // No rollout settings: the defaults are what is measured.
    spec: { source: { trainingRun: { name: run } }, replicas: 1, explanations: { enabled: true } },
  };
}

async function main() {
  const info = await acquireCluster();
  const kc = new KubeConfig();
  kc.loadFromFile(info.kubeconfig);
  const client = adminClient(kc);
  const ns = `bench-rollout-${Date.now().toString(36)}`;
  const dataDir = mkdtempSync(join(tmpdir(), "bench-rollout-data-"));
  const modelsDir = mkdtempSync(join(tmpdir(), "bench-rollout-models-"));
  const opKubeconfig = await prepareOperatorNamespace(client, kc, ns, { dataDir, modelsDir });
  const op = namespacedOperator("bench-rollout", opKubeconfig, ns, ["--allow-test-faults", "true"]);
  await op.start();
  let load: SteadyLoad | undefined;
  try {
    log("training two versions on 4,000 synthetic customers");
    synthesize(join(dataDir, "customers.csv"), { rows: 4000, seed: 3 });
    await apply(client, trainingRun(ns, "good", 3));
    await apply(client, trainingRun(ns, "faulty", 4));
    for (const r of ["good", "faulty"]) {
      const done = await waitForRunFinished(client, ns, r);
      if (done.status?.phase !== "Succeeded") throw new Error(`${r}: ${done.status?.message}`);
    }
    await apply(client, churnModel(ns, "good", {}));
    const routerIp = await waitFor(
      "a ready router and stable version",
      async () => {
        const m = await client.get<ChurnModel>(churnModelType, ns, "bank");
        if (m?.status?.phase !== "Ready") return undefined;
        const pods = await client.list<V1Pod>(Resources.pods, ns, {
          labelSelector: "app.kubernetes.io/component=router",
        });
        const ready = pods.items.find((p) =>
          p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
        );
        return ready?.status?.podIP;
      },
      { timeoutMs: 300_000 },
    );
    const rows = Array.from({ length: 500 }, (_, i) => ({
      CustomerId: 40_000_000 + i,
      CreditScore: 500 + (i % 300),
      Geography: ["France", "Germany", "Spain"][i % 3],
      Gender: i % 2 ? "Male" : "Female",
      Age: 20 + (i % 50),
      Tenure: i % 10,
      Balance: (i * 997) % 150_000,
      NumOfProducts: 1 + (i % 3),
      IsActiveMember: i % 2,
    }));
    load = new SteadyLoad(`http://${routerIp}:8080`, rows, rps).start();
    const results: number[] = [];
    for (let t = 1; t <= trials; t++) {
      const fault = { "churn.mlops.dev/test-fault": "error-rate=1" };
      const retry: Record<string, string> =
        t === 1
          ? {}
          : {
              "churn.mlops.dev/rollout-action": "retry",
              "churn.mlops.dev/rollout-action-id": `bench-${t}`,
            };
      await apply(client, churnModel(ns, "faulty", { ...fault, ...retry }));
      const visible = await waitFor(
        `trial ${t}: the faulty canary getting traffic`,
        async () => {
          const m = await client.get<ChurnModel>(churnModelType, ns, "bank");
          const r = m?.status?.rollout;
          return r?.canary && (r.mirrorPercent ?? 0) + (r.effectiveWeight ?? 0) > 0
            ? Date.now()
            : undefined;
        },
        { timeoutMs: 300_000, intervalMs: 100 },
      );
      const zero = await waitFor(
        `trial ${t}: the rollback`,
        async () => {
          const m = await client.get<ChurnModel>(churnModelType, ns, "bank");
          return m?.status?.rollout?.phase === "RolledBack" && !m.status.rollout.canary
            ? Date.now()
            : undefined;
        },
        { timeoutMs: 300_000, intervalMs: 100 },
      );
      const s = (zero - visible) / 1000;
      results.push(s);
      const m = await client.get<ChurnModel>(churnModelType, ns, "bank");
      log(
        `trial ${t}: fault visible -> weight 0 in ${s.toFixed(1)} s (${m?.status?.rollout?.history?.[0]?.message})`,
      );
    }
    const med = median(results);
    const flaggerFirst = FLAGGER_DEFAULT_INTERVAL_S;
    const flaggerRollback = FLAGGER_DEFAULT_INTERVAL_S * FLAGGER_DEFAULT_THRESHOLD;
    process.stdout.write(
      [
        "",
        "| | seconds | analysis intervals (10 s) |",
        "| --- | --- | --- |",
        `| churn-operator, fault visible -> weight 0 (median of ${trials}) | ${med.toFixed(1)} | ${(med / 10).toFixed(2)} |`,
        `| churn-operator, worst trial | ${Math.max(...results).toFixed(1)} | ${(Math.max(...results) / 10).toFixed(2)} |`,
        `| Flagger default: first analysis after the fault (interval 60 s) | >= ${flaggerFirst} | - |`,
        `| Flagger default: rollback after threshold 5 failed checks | ~${flaggerRollback} | - |`,
        "",
        `ratio: Flagger's first check / ours = ${(flaggerFirst / med).toFixed(1)}x; target <= 2 intervals (20 s): ${med <= 20 ? "met" : "NOT met"}`,
        `load: ${load.stats.sent} requests, ${load.stats.failed} failed (the faulty canary answered none: mirror first)`,
        "",
      ].join("\n"),
    );
  } finally {
    await load?.stop();
    await op.kill("SIGTERM");
    await client.delete(Resources.namespaces, undefined, ns);
    for (const claim of ["churn-models", "churn-data"])
      await client.delete(
        {
          group: "",
          version: "v1",
          kind: "PersistentVolume",
          plural: "persistentvolumes",
          namespaced: false,
        },
        undefined,
        `${ns}-${claim}`,
      );
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(modelsDir, { recursive: true, force: true });
    await releaseCluster();
  }
}

main().catch((err) => {
  process.stderr.write(`bench rollout failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
