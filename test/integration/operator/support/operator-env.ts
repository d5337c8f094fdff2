import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { testCluster } from "../../../../cluster/testing/index.js";
import type { ChurnModel } from "../../../../operator/src/api/churn-model.js";
import type { TrainingRun } from "../../../../operator/src/api/training-run.js";
import type { KubeClient } from "../../../../operator/src/kube/kube-client.js";
import { Resources } from "../../../../operator/src/kube/resources.js";
import { OPERATOR_NAMESPACE, prepareOperatorNamespace, repoRoot } from "./install.js";
import { adminClient, typesByKind } from "./kube.js";
import { namespacedOperator, type OperatorProcess } from "./operator-process.js";
import { CUSTOMERS, synthesize } from "./synthetic-customers.js";

/**
 * The seed CSV beside the repository (../shared, never copied into it), or $CHURN_SEED_CSV
 * (`CHURN_SEED_CSV=/nonexistent` runs the suites as a clone without ../shared does). Only the
 * example TrainingRun's own suite reads it (with synthetic customers at its path when absent);
 * every other suite trains on {@link CUSTOMERS}.
 */
export const seedCsv =
  process.env.CHURN_SEED_CSV || resolve(repoRoot, "../shared/data/seed/Customer-Churn-Records.csv");
/** Why the seed data set is not used (its stand-in is the synthetic customers) when absent. */
export const noSeed = existsSync(seedCsv) ? false : `seed data not found at ${seedCsv}`;

/** A namespace with CRDs, RBAC, a model store and a data volume, and operators on demand. */
export interface OperatorEnv {
  client: KubeClient;
  ns: string;
  modelsDir: string;
  dataDir: string;
  operatorKubeconfig: string;
  /** Starts an operator replica watching this namespace, authenticated as config/rbac's SA. */
  startOperator(identity: string, extraArgs?: string[]): Promise<OperatorProcess>;
  cleanup(): Promise<void>;
}

/** Sets up a fresh namespace for one test file. */
export async function setupOperatorEnv(prefix: string): Promise<OperatorEnv> {
  const { kc } = testCluster();
  const client = adminClient(kc);
  const ns = `${prefix}-${randomBytes(3).toString("hex")}`;
  const modelsDir = mkdtempSync(join(tmpdir(), "churn-models-"));
  const dataDir = mkdtempSync(join(tmpdir(), "churn-data-"));
  synthesize(join(dataDir, CUSTOMERS.path), CUSTOMERS);
  const kubeconfig = await prepareOperatorNamespace(client, kc, ns, { modelsDir, dataDir });
  const operators: OperatorProcess[] = [];
  return {
    client,
    ns,
    modelsDir,
    dataDir,
    operatorKubeconfig: kubeconfig,
    async startOperator(identity, extraArgs = []) {
      const op = namespacedOperator(identity, kubeconfig, ns, extraArgs);
      operators.push(op);
      await op.start();
      return op;
    },
    async cleanup() {
      await Promise.all(operators.map((o) => o.kill("SIGKILL")));
      await client.delete(Resources.namespaces, undefined, ns);
      for (const claim of ["churn-models", "churn-data"]) {
        await client.delete(typesByKind.PersistentVolume as never, undefined, `${ns}-${claim}`);
      }
      await client.delete(Resources.leases, OPERATOR_NAMESPACE, `churn-operator-${ns}`);
      rmSync(modelsDir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The example TrainingRun exactly as committed (written for the seed data set). */
export function exampleTrainingRun(): TrainingRun {
  return parse(
    readFileSync(join(repoRoot, "examples", "training-run-bank.yaml"), "utf8"),
  ) as TrainingRun;
}

/**
 * The example TrainingRun, renamed, placed in `ns` and reading the env's synthetic
 * {@link CUSTOMERS}, with optional spec changes.
 */
export function seedTrainingRun(
  ns: string,
  name: string,
  change: (spec: TrainingRun["spec"]) => void = () => {},
): TrainingRun {
  const run = exampleTrainingRun();
  run.metadata = { ...run.metadata, name, namespace: ns };
  run.spec.dataset = { persistentVolumeClaim: { claimName: "churn-data", path: CUSTOMERS.path } };
  // Test pods run as local processes: no resource requests to schedule against.
  delete run.spec.resources;
  change(run.spec);
  return run;
}

/** ChurnModel `name` in `ns` serving TrainingRun `run`, with `spec` laid over that. */
export function servingModel(
  ns: string,
  name: string,
  run: string,
  spec: Partial<ChurnModel["spec"]> = {},
  annotations?: Record<string, string>,
): ChurnModel {
  return {
    apiVersion: "churn.mlops.dev/v1alpha1",
    kind: "ChurnModel",
    metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) },
    spec: { source: { trainingRun: { name: run } }, ...spec },
  } as ChurnModel;
}
