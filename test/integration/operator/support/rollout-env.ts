// Shared set-up of the rollout suites: an operator that honours the test-fault annotation,
// synthetic bank customers, and three trained versions: v1, v2 (a slightly different model
// that scores alike) and skewed (positives weighted 8x: it passes its training gates, but its
// probabilities are shifted, the model a rollout must catch by its scores).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { V1Pod, V1Service } from "@kubernetes/client-node";
import { afterAll, beforeAll } from "vitest";
import { waitFor } from "../../../../cluster/testing/index.js";
import type { ChurnModel } from "../../../../operator/src/api/churn-model.js";
import type { RolloutSpec } from "../../../../operator/src/api/rollout.js";
import type { TrainingRun } from "../../../../operator/src/api/training-run.js";
import { churnModelType } from "../../../../operator/src/controllers/shared/custom-resources.js";
import { Resources } from "../../../../operator/src/kube/resources.js";
import { repoRoot } from "./install.js";
import { apply } from "./kube.js";
import {
  type OperatorEnv,
  seedTrainingRun,
  servingModel,
  setupOperatorEnv,
} from "./operator-env.js";
import type { OperatorProcess } from "./operator-process.js";
import { waitForRunFinished } from "./status.js";
import { SteadyLoad, send } from "./steady-load.js";

/** A trained version's digest and its trainer reference rows (with customer ids). */
export interface TrainedVersion {
  run: string;
  digest: string;
}

/** Writes synthetic bank customers into the data volume and trains the three versions. */
export async function trainVersions(env: OperatorEnv): Promise<Record<string, TrainedVersion>> {
  const python = join(repoRoot, ".venv", "bin", "python");
  execFileSync(python, [
    ...["-m", "churn_trainer", "synth", "--rows", "4000", "--seed", "11"],
    ...["--output", join(env.dataDir, "bank.csv")],
  ]);
  const specs: Record<string, (s: TrainingRun["spec"]) => void> = {
    v1: (s) => {
      s.model = { hyperparameters: { n_estimators: 60, max_depth: 3, learning_rate: 0.1 } };
    },
    v2: (s) => {
      s.model = { hyperparameters: { n_estimators: 70, max_depth: 3, learning_rate: 0.1 } };
    },
    skewed: (s) => {
      s.model = {
        scalePosWeight: 8,
        hyperparameters: { n_estimators: 60, max_depth: 3, learning_rate: 0.1 },
      };
    },
  };
  for (const [name, change] of Object.entries(specs)) {
    await apply(
      env.client,
      seedTrainingRun(env.ns, name, (s) => {
        s.dataset = { persistentVolumeClaim: { claimName: "churn-data", path: "bank.csv" } };
        s.gates = { minRocAuc: 0.7 };
        s.modelRef = undefined;
        change(s);
      }),
    );
  }
  const out: Record<string, TrainedVersion> = {};
  for (const name of Object.keys(specs)) {
    const run = await waitForRunFinished(env.client, env.ns, name);
    if (run.status?.phase !== "Succeeded")
      throw new Error(`run ${name} did not succeed: ${JSON.stringify(run.status)}`);
    out[name] = { run: name, digest: run.status.model?.digest as string };
  }
  return out;
}

/** Customers to score: the trainer's reference rows of a version, each with a distinct id. */
export function customers(env: OperatorEnv, digest: string, count: number) {
  const ref = JSON.parse(readFileSync(join(env.modelsDir, digest, "reference.json"), "utf8")) as {
    rows: Record<string, unknown>[];
  };
  return Array.from({ length: count }, (_, i) => ({
    ...(ref.rows[i % ref.rows.length] as Record<string, unknown>),
    CustomerId: 20_000_000 + i,
  }));
}

/** A ChurnModel serving TrainingRun `run` with a rollout spec. */
export function rolloutModel(
  ns: string,
  name: string,
  run: string,
  rollout: RolloutSpec,
  annotations: Record<string, string> = {},
): ChurnModel {
  return servingModel(
    ns,
    name,
    run,
    { replicas: 1, explanations: { enabled: true }, rollout },
    annotations,
  );
}

/** The ChurnModel as the API has it now. */
export async function currentModel(env: OperatorEnv, name: string): Promise<ChurnModel> {
  const m = await env.client.get<ChurnModel>(churnModelType, env.ns, name);
  if (!m) throw new Error(`ChurnModel ${name} not found`);
  return m;
}

/** Waits until the ChurnModel's rollout status satisfies `ok`; the error shows the status. */
export function waitForRollout(
  env: OperatorEnv,
  name: string,
  what: string,
  ok: (m: ChurnModel) => boolean,
  timeoutMs = 150_000,
): Promise<ChurnModel> {
  return waitFor(
    `${name}: ${what}`,
    async () => {
      const m = await env.client.get<ChurnModel>(churnModelType, env.ns, name);
      return m && ok(m) ? m : undefined;
    },
    {
      timeoutMs,
      describe: async () =>
        JSON.stringify(
          (await env.client.get<ChurnModel>(churnModelType, env.ns, name))?.status?.rollout,
        ),
    },
  );
}

/** IPs of the ready pods matching a label selector. */
export async function readyPodIps(env: OperatorEnv, selector: string): Promise<string[]> {
  const pods = await env.client.list<V1Pod>(Resources.pods, env.ns, { labelSelector: selector });
  return pods.items
    .filter((p) => !p.metadata?.deletionTimestamp)
    .filter((p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"))
    .map((p) => p.status?.podIP as string)
    .filter(Boolean);
}

/** How {@link rolloutSuite} starts a suite. */
export interface RolloutSuiteOptions {
  /** The rollout `bank` is first applied with; read after `alongside` has finished. */
  rollout: () => RolloutSpec;
  /** Extra flags of the operator (e.g. `--allow-test-faults true`). */
  operatorArgs?: string[];
  /** Started with the operator and the training, and awaited before `bank` is applied. */
  alongside?: (env: OperatorEnv) => Promise<void>;
  /** The set-up's deadline. */
  timeoutMs?: number;
}

/**
 * A rollout suite's world, filled in by its beforeAll: a namespace with an operator, the three
 * trained versions, and the ChurnModel `bank` serving v1 as its stable version.
 */
export class RolloutSuite {
  env!: OperatorEnv;
  op!: OperatorProcess;
  versions: Record<string, TrainedVersion> = {};
  /** `bank` as it was once v1 was stable. */
  first!: ChurnModel;
  /** `bank`'s Service. */
  serviceUrl = "";

  /** A trained version's digest ("" for one not trained). */
  digest(version: string): string {
    return this.versions[version]?.digest ?? "";
  }

  /** Applies `bank` serving TrainingRun `run` with a rollout spec and annotations. */
  roll(run: string, rollout: RolloutSpec, annotations: Record<string, string> = {}) {
    return apply(this.env.client, rolloutModel(this.env.ns, "bank", run, rollout, annotations));
  }

  /** Waits until `bank`'s status satisfies `ok`; the error shows its rollout status. */
  until(what: string, ok: (m: ChurnModel) => boolean, timeoutMs?: number): Promise<ChurnModel> {
    return waitForRollout(this.env, "bank", what, ok, timeoutMs);
  }

  /** `bank` as the API has it now. */
  current(): Promise<ChurnModel> {
    return currentModel(this.env, "bank");
  }

  /** Sets the manual-action annotations on `bank`, as `kubectl churn` does. */
  act(kind: string, id: string) {
    const annotations = {
      "churn.mlops.dev/rollout-action": kind,
      "churn.mlops.dev/rollout-action-id": id,
    };
    return this.env.client.apply(
      churnModelType,
      {
        apiVersion: "churn.mlops.dev/v1alpha1",
        kind: "ChurnModel",
        metadata: { name: "bank", namespace: this.env.ns, annotations },
      } as unknown as ChurnModel,
      { fieldManager: "rollout-test-actions", force: true },
    );
  }

  /**
   * A steady load (not started) of `count` customers of `version` through `bank`'s Service, a
   * connection per request so that the Service spreads it over the pods.
   */
  serviceLoad(version: string, count: number, perSecond: number): SteadyLoad {
    return new SteadyLoad(
      this.serviceUrl,
      customers(this.env, this.digest(version), count),
      perSecond,
      false,
    );
  }
}

/**
 * Registers the beforeAll and afterAll of a rollout suite in namespace `prefix`-…: an operator,
 * the trained versions and `bank` at v1 stable and Ready; cleaned up after the file. A suite's own
 * hooks run after this set-up and before this clean-up.
 */
export function rolloutSuite(prefix: string, options: RolloutSuiteOptions): RolloutSuite {
  const suite = new RolloutSuite();
  beforeAll(async () => {
    const env = await setupOperatorEnv(prefix);
    suite.env = env;
    [suite.op, suite.versions] = await Promise.all([
      env.startOperator(`op-${prefix}`, options.operatorArgs),
      trainVersions(env),
      options.alongside?.(env),
    ]);
    await suite.roll("v1", options.rollout());
    suite.first = await suite.until(
      "v1 stable",
      (m) => m.status?.rollout?.stable?.digest === suite.digest("v1") && m.status.phase === "Ready",
    );
    const svc = await env.client.get<V1Service>(Resources.services, env.ns, "bank");
    suite.serviceUrl = `http://${svc?.spec?.clusterIP}:8080`;
    // Ready (pods Ready, the EndpointSlice listing them) comes before kube-proxy has written the
    // new Service's rules: until its next sync (at most one a second, later on a busy node) the
    // ClusterIP still rejects, so a load started at once saw ECONNREFUSED for its first ~0.6 s.
    // The suites' loads judge a rollout, not that first sync: they start on a Service that answers.
    const [row] = customers(env, suite.digest("v1"), 1);
    await waitFor(
      "bank's Service to answer",
      async () => (await send(`${suite.serviceUrl}/v1/score`, { instances: [row] })).status === 200,
    );
  }, options.timeoutMs ?? 600_000);
  afterAll(async () => suite.env?.cleanup());
  return suite;
}
