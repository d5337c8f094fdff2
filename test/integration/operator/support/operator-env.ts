import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { testCluster } from "../../../../cluster/testing/index.js";
import type { TrainingRun } from "../../../../operator/src/api/training-run.js";
import type { KubeClient } from "../../../../operator/src/kube/kube-client.js";
import { Resources } from "../../../../operator/src/kube/resources.js";
import {
  ensureNamespace,
  hostVolume,
  installCrds,
  installRbac,
  OPERATOR_NAMESPACE,
  operatorKubeconfig,
  repoRoot,
} from "./install.js";
import { adminClient, typesByKind } from "./kube.js";
import { OperatorProcess } from "./operator-process.js";

/** The seed CSV beside the repository (never copied into it). */
export const seedCsv = resolve(repoRoot, "../shared/data/seed/Customer-Churn-Records.csv");
/** Why seed-data tests are skipped when the file is absent. */
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
  await installCrds(client);
  await installRbac(client);
  await ensureNamespace(client, ns);
  const modelsDir = mkdtempSync(join(tmpdir(), "churn-models-"));
  const dataDir = mkdtempSync(join(tmpdir(), "churn-data-"));
  mkdirSync(join(dataDir, "seed"));
  if (existsSync(seedCsv))
    // A copy in this run's temporary volume (outside the repository), not a symlink: a pod
    // cannot follow a link to a host path its mounts do not show.
    copyFileSync(seedCsv, join(dataDir, "seed", "Customer-Churn-Records.csv"));
  await hostVolume(client, ns, "churn-models", modelsDir);
  await hostVolume(client, ns, "churn-data", dataDir, true);
  const kubeconfig = await operatorKubeconfig(client, kc);
  const operators: OperatorProcess[] = [];
  return {
    client,
    ns,
    modelsDir,
    dataDir,
    operatorKubeconfig: kubeconfig,
    async startOperator(identity, extraArgs = []) {
      const op = new OperatorProcess(identity, kubeconfig, [
        "--namespace",
        ns,
        "--leader-election-namespace",
        OPERATOR_NAMESPACE,
        "--leader-election-id",
        `churn-operator-${ns}`,
        "--metrics-bind-address",
        "127.0.0.1:0",
        "--health-probe-bind-address",
        "127.0.0.1:0",
        ...extraArgs,
      ]);
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

/** The example seed TrainingRun, renamed and placed in `ns`, with optional spec changes. */
export function seedTrainingRun(
  ns: string,
  name: string,
  change: (spec: TrainingRun["spec"]) => void = () => {},
): TrainingRun {
  const run = parse(
    readFileSync(join(repoRoot, "examples", "training-run-bank.yaml"), "utf8"),
  ) as TrainingRun;
  run.metadata = { ...run.metadata, name, namespace: ns };
  // Test pods run as local processes: no resource requests to schedule against.
  delete run.spec.resources;
  change(run.spec);
  return run;
}
