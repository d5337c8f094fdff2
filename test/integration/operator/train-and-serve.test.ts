import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import type {
  V1Deployment,
  V1Job,
  V1Pod,
  V1Service,
  V1ServiceAccount,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noProcessNode, waitFor } from "../../../cluster/testing/index.js";
import type { ChurnModel } from "../../../operator/src/api/churn-model.js";
import type { TrainingRun } from "../../../operator/src/api/training-run.js";
import {
  churnModelType,
  trainingRunType,
} from "../../../operator/src/controllers/shared/custom-resources.js";
import { KubeApiError } from "../../../operator/src/kube/kube-api-error.js";
import { Resources } from "../../../operator/src/kube/resources.js";
import { loadInferenceService } from "../../../runtime/src/grpc/grpc-server.js";
import { startHeldDataServer } from "./support/held-data-server.js";
import { apply } from "./support/kube.js";
import {
  type OperatorEnv,
  seedTrainingRun,
  servingModel,
  setupOperatorEnv,
} from "./support/operator-env.js";
import type { OperatorProcess } from "./support/operator-process.js";
import {
  eventReasons,
  trainerPods,
  waitForModelReady,
  waitForRunFinished,
} from "./support/status.js";
import { CUSTOMERS } from "./support/synthetic-customers.js";

// The proof, on the local cluster: apply the example TrainingRun to the synthetic bank
// customers (CUSTOMERS: the seed's columns, its leaky Complain too) -> Succeeded with ROC-AUC;
// a leaking feature or a broken CSV -> Failed, saying why; a ChurnModel -> Ready and scoring
// like the trainer; deleting it removes its Deployment and Service. The operator runs as a
// process authenticated with exactly config/rbac's rights.
describe.skipIf(noProcessNode)("TrainingRun -> model -> ChurnModel on a real cluster", () => {
  let env: OperatorEnv;
  let op: OperatorProcess;
  let trained: TrainingRun;
  let validating: TrainingRun;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    env = await setupOperatorEnv("train");
    op = await env.startOperator("op-train");
    writeFileSync(
      join(env.dataDir, "broken.csv"),
      "RowNumber,CustomerId,Surname,CreditScore\n1,15634602,Hargrave,619\n",
    );
    // The customers come over HTTP from a pod that holds them until released, so the run is
    // seen Validating (its validator waits in the fetch) without racing a short phase.
    const held = await startHeldDataServer(env.client, env.ns, "churn-data", CUSTOMERS.path);
    const t0 = Date.now();
    // All at once: the failures are quick and overlap the first run's training.
    await apply(
      env.client,
      seedTrainingRun(env.ns, "churn", (s) => {
        s.dataset = { url: held.url };
      }),
    );
    await apply(
      env.client,
      seedTrainingRun(env.ns, "leak", (s) => {
        s.schema.drop = ["RowNumber", "Surname"];
        s.schema.features.push({ name: "Complain", type: "boolean" });
      }),
    );
    await apply(
      env.client,
      seedTrainingRun(env.ns, "broken", (s) => {
        s.dataset = { persistentVolumeClaim: { claimName: "churn-data", path: "broken.csv" } };
      }),
    );
    await apply(
      env.client,
      seedTrainingRun(env.ns, "strict", (s) => {
        s.gates = { ...s.gates, minRocAuc: 0.99, maxRocAuc: 1 };
      }),
    );
    validating = await waitFor(
      "the run to be Validating",
      async () => {
        const r = await env.client.get<TrainingRun>(trainingRunType, env.ns, "churn");
        return r?.status?.phase === "Validating" ? r : undefined;
      },
      { timeoutMs: 120_000, describe: () => op.tail() },
    );
    await held.release();
    trained = await waitForRunFinished(env.client, env.ns, "churn");
    timings.applyToSucceededMs = Date.now() - t0;
  });

  afterAll(async () => {
    if (timings.applyToSucceededMs) process.stdout.write(`[timings] ${JSON.stringify(timings)}\n`);
    await env?.cleanup();
  });

  it("trains the customers to Succeeded, ROC-AUC and the model in status", async () => {
    expect(trained.status?.phase, op.tail()).toBe("Succeeded");
    const s = trained.status;
    expect(s?.metrics?.rocAuc).toBeGreaterThanOrEqual(0.86);
    expect(s?.model?.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(s?.model?.uri).toBe(`pvc://churn-models/${s?.model?.digest}`);
    expect(existsSync(join(env.modelsDir, s?.model?.digest ?? "", "model.onnx"))).toBe(true);
    expect(s?.conditions?.map((c) => `${c.type}=${c.status}`).sort()).toEqual([
      "DataValidated=True",
      "ModelValidated=True",
      "Succeeded=True",
      "Trained=True",
    ]);
    expect(s?.observedGeneration).toBe(trained.metadata?.generation);
    expect(s?.startTime).toBeTruthy();
    expect(s?.completionTime).toBeTruthy();
    // Events are recorded just after the status write the run was read from: waited for.
    const reasons = await waitFor("the run's Succeeded event", async () => {
      const seen = await eventReasons(env.client, env.ns, "churn");
      return seen.includes("Succeeded") ? seen : undefined;
    });
    expect(reasons).toContain("JobCreated");
    // Counted once, on the status write that made it Succeeded (just after the write, so the
    // counter is waited for), with its Job-start-to-completion time.
    const succeeded = { result: "succeeded", reason: "Succeeded" };
    await waitFor("the run in churn_trainingrun_completions_total", async () =>
      (await op.metric("churn_trainingrun_completions_total", succeeded)) >= 1 ? true : undefined,
    );
    expect(await op.metric("churn_trainingrun_completions_total", succeeded)).toBe(1);
    expect(
      await op.metric("churn_trainingrun_duration_seconds_count", { result: "succeeded" }),
    ).toBe(1);
  });

  it("passes through Validating while the init container checks the data", () => {
    const s = validating.status;
    expect(s?.message).toBe("validating the data set, every row");
    const conds = Object.fromEntries(
      (s?.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]),
    );
    expect(conds).toEqual({
      DataValidated: "Unknown/ValidatingData",
      Succeeded: "Unknown/ValidatingData",
    });
    expect(s?.jobName).toBe("churn-train");
  });

  it("validates the data in an init container first; DataValidated carries its numbers", async () => {
    const csv = readFileSync(join(env.dataDir, CUSTOMERS.path));
    const sha = createHash("sha256").update(csv).digest("hex");
    const dv = trained.status?.conditions?.find((c) => c.type === "DataValidated");
    expect([dv?.status, dv?.reason]).toEqual(["True", "DataValidated"]);
    expect(dv?.message).toMatch(
      new RegExp(
        `^all \\d+ data checks passed on ${CUSTOMERS.rows} rows \\(dataset sha256 ${sha}\\)$`,
      ),
    );
    const [pod] = await trainerPods(env.client, env.ns, "churn");
    const validator = pod?.status?.initContainerStatuses?.find((c) => c.name === "validate");
    const done = validator?.state?.terminated;
    expect(done?.exitCode).toBe(0);
    const summary = JSON.parse(done?.message ?? "{}");
    expect(summary).toMatchObject({
      status: "validated",
      rows: CUSTOMERS.rows,
      dataSha256: sha,
    });
    expect(dv?.message).toContain(`all ${summary.checks.passed} data checks passed`);
    // Training began only after validation ended.
    const trainer = pod?.status?.containerStatuses?.find((c) => c.name === "trainer");
    const started = trainer?.state?.terminated?.startedAt;
    expect(started && done?.finishedAt && new Date(started) >= new Date(done.finishedAt)).toBe(
      true,
    );
    const reasons = await eventReasons(env.client, env.ns, "churn");
    for (const r of ["ValidatingData", "DataValidated", "Trained", "GatesPassed", "Succeeded"]) {
      expect(reasons).toContain(r);
    }
  });

  it("refuses a spec change once the operator has started the run", async () => {
    let err: unknown;
    try {
      await apply(
        env.client,
        seedTrainingRun(env.ns, "churn", (s) => {
          s.split = { ...s.split, seed: 7 };
        }),
      );
    } catch (e) {
      err = e;
    }
    expect(err instanceof KubeApiError && err.statusCode).toBe(422);
    expect((err as Error).message).toContain("spec is immutable once the run has started");
    const now = await env.client.get<TrainingRun>(trainingRunType, env.ns, "churn");
    expect(now?.metadata?.generation).toBe(trained.metadata?.generation);
  });

  it("runs the trainer with no API access: no token, a ServiceAccount without bindings", async () => {
    const [pod] = await trainerPods(env.client, env.ns, "churn");
    expect(pod?.spec?.automountServiceAccountToken).toBe(false);
    expect(pod?.spec?.serviceAccountName).toBe("churn-trainer");
    expect(pod?.spec?.volumes?.some((v) => v.projected)).toBe(false);
    const sa = await env.client.get<V1ServiceAccount>(
      Resources.serviceAccounts,
      env.ns,
      "churn-trainer",
    );
    expect(sa?.automountServiceAccountToken).toBe(false);
    const job = await env.client.get<V1Job>(Resources.jobs, env.ns, "churn-train");
    expect(job?.metadata?.ownerReferences?.[0]?.name).toBe("churn");
  });

  it("fails the run with Complain left in, and the condition names the leak", async () => {
    const run = await waitForRunFinished(env.client, env.ns, "leak");
    expect(run.status?.phase).toBe("Failed");
    const dv = run.status?.conditions?.find((c) => c.type === "DataValidated");
    expect(dv?.status).toBe("False");
    expect(dv?.reason).toBe("DataValidationFailed");
    expect(dv?.message).toMatch(
      new RegExp(`^data validation failed on ${CUSTOMERS.rows} rows \\(1 of \\d+ checks failed\\)`),
    );
    expect(dv?.message).toContain("Complain");
    expect(run.status?.failedChecks?.join(" ")).toContain("feature.leakage[Complain]");
    expect(run.status?.conditions?.find((c) => c.type === "Trained")).toBeUndefined();
    // The validator failed it, before any training: the trainer container never ran.
    const pods = await trainerPods(env.client, env.ns, "leak");
    expect(pods).toHaveLength(1);
    const validator = pods[0]?.status?.initContainerStatuses?.find((c) => c.name === "validate");
    expect(validator?.state?.terminated?.exitCode).toBe(2);
    const trainer = pods[0]?.status?.containerStatuses?.find((c) => c.name === "trainer");
    expect(trainer?.state?.running ?? trainer?.state?.terminated).toBeUndefined();
    // Terminal at once: the pod failure policy names the init container and fails the Job.
    // (The run is Failed as soon as the validator exits 2; the Job catches up.)
    const failed = await waitFor("the leak Job to fail", async () => {
      const job = await env.client.get<V1Job>(Resources.jobs, env.ns, "leak-train");
      return job?.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True");
    });
    expect(failed.reason).toBe("PodFailurePolicy");
    expect(failed?.message).toContain("validate");
    expect(await eventReasons(env.client, env.ns, "leak")).toContain("DataValidationFailed");
    // The failure is counted under its reason (the broken run may have been counted too).
    const dataFailed = { result: "failed", reason: "DataValidationFailed" };
    await waitFor("the leak run in churn_trainingrun_completions_total", async () =>
      (await op.metric("churn_trainingrun_completions_total", dataFailed)) >= 1 ? true : undefined,
    );
  });

  it("fails a run whose gate is not met, terminally, naming the gate", async () => {
    const run = await waitForRunFinished(env.client, env.ns, "strict");
    expect(run.status?.phase).toBe("Failed");
    const mv = run.status?.conditions?.find((c) => c.type === "ModelValidated");
    expect([mv?.status, mv?.reason]).toEqual(["False", "GateFailed"]);
    expect(mv?.message).toMatch(/minRocAuc: observed 0\.8\d+ \(needs >= 0\.99\)/);
    expect(run.status?.conditions?.find((c) => c.type === "DataValidated")?.status).toBe("True");
    expect(run.status?.metrics?.rocAuc).toBeGreaterThan(0.8);
    expect(run.status?.model).toBeUndefined();
    expect(await trainerPods(env.client, env.ns, "strict")).toHaveLength(1);
    expect(await eventReasons(env.client, env.ns, "strict")).toContain("GateFailed");
  });

  it("fails the run on a broken CSV, with the reason", async () => {
    const run = await waitForRunFinished(env.client, env.ns, "broken");
    expect(run.status?.phase).toBe("Failed");
    expect(run.status?.message).toMatch(/missing from the dataset: .*Geography/);
    expect(run.status?.conditions?.find((c) => c.type === "Succeeded")?.reason).toBe(
      "DataValidationFailed",
    );
  });

  it("serves the model: ChurnModel Ready, and the pods score like the trainer's reference rows", async () => {
    const t0 = Date.now();
    await apply(env.client, servingModel(env.ns, "bank", "churn", { replicas: 2 }));
    const model = await waitForModelReady(env.client, env.ns, "bank");
    timings.applyToReadyMs = Date.now() - t0;
    const digest = trained.status?.model?.digest as string;
    expect(model.status?.serving).toEqual({
      digest,
      uri: `pvc://churn-models/${digest}`,
      trainingRun: "churn",
    });
    expect(model.status?.endpoint).toBe(`http://bank.${env.ns}.svc:8080`);
    expect(model.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");

    const reference = JSON.parse(
      readFileSync(join(env.modelsDir, digest, "reference.json"), "utf8"),
    ) as {
      rows: Record<string, unknown>[];
      probabilities: number[];
    };
    const pods = await env.client.list<V1Pod>(Resources.pods, env.ns, {
      labelSelector: "churn.mlops.dev/churn-model=bank,app.kubernetes.io/component=serving",
    });
    const ips = pods.items.map((p) => p.status?.podIP).filter((ip): ip is string => !!ip);
    expect(ips).toHaveLength(2);
    for (const ip of ips) {
      const res = await fetch(`http://${ip}:8080/v1/score`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ instances: reference.rows }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        modelVersion: string;
        predictions: Array<{ probability: number }>;
      };
      expect(body.modelVersion).toBe(digest);
      const worst = Math.max(
        ...body.predictions.map((p, i) =>
          Math.abs(p.probability - (reference.probabilities[i] as number)),
        ),
      );
      expect(worst).toBeLessThanOrEqual(1e-5);
    }
    // The protocol's gRPC form: the Service's grpc port, and a pod answering on it.
    const svc = await env.client.get<V1Service>(Resources.services, env.ns, "bank");
    expect(svc?.spec?.ports?.find((p) => p.name === "grpc")).toMatchObject({
      port: 8081,
      targetPort: "grpc",
      appProtocol: "kubernetes.io/h2c",
    });
    const Inference = loadInferenceService();
    const client = new Inference(`${ips[0]}:8081`, grpc.credentials.createInsecure());
    try {
      type Unary = (request: object, callback: (err: Error | null, value: unknown) => void) => void;
      const serverReady = (client as unknown as { ServerReady: Unary }).ServerReady;
      const ready = await new Promise<unknown>((resolve, reject) =>
        serverReady.call(client, {}, (err, value) => (err ? reject(err) : resolve(value))),
      );
      expect(ready).toEqual({ ready: true });
    } finally {
      client.close();
    }
  });

  it("with latestFrom, a newer passing TrainingRun becomes the serving version", async () => {
    // The example runs name modelRef bank-churn: this ChurnModel follows them. strategy direct:
    // the plain replace (canary rollouts have their own suites, rollout-*.test.ts).
    await apply(env.client, {
      apiVersion: "churn.mlops.dev/v1alpha1",
      kind: "ChurnModel",
      metadata: { name: "bank-churn", namespace: env.ns },
      spec: { source: { latestFrom: {} }, replicas: 1, strategy: "direct" },
    } as ChurnModel);
    const first = await waitForModelReady(env.client, env.ns, "bank-churn");
    expect(first.status?.serving?.trainingRun).toBe("churn");

    await apply(
      env.client,
      seedTrainingRun(env.ns, "churn-2", (s) => {
        s.model = { ...s.model, hyperparameters: { ...s.model?.hyperparameters, max_depth: 4 } };
      }),
    );
    const second = await waitForRunFinished(env.client, env.ns, "churn-2");
    expect(second.status?.phase).toBe("Succeeded");
    expect(second.status?.model?.digest).not.toBe(trained.status?.model?.digest);
    const rolled = await waitFor("bank-churn to serve churn-2", async () => {
      const m = await env.client.get<ChurnModel>(churnModelType, env.ns, "bank-churn");
      return m?.status?.phase === "Ready" && m.status.serving?.trainingRun === "churn-2"
        ? m
        : undefined;
    });
    expect(rolled.status?.serving?.digest).toBe(second.status?.model?.digest);
    const pods = await env.client.list<V1Pod>(Resources.pods, env.ns, {
      labelSelector: "churn.mlops.dev/churn-model=bank-churn,app.kubernetes.io/component=serving",
    });
    const live = pods.items.filter((p) => !p.metadata?.deletionTimestamp);
    expect(live.map((p) => p.metadata?.annotations?.["churn.mlops.dev/digest"])).toEqual([
      second.status?.model?.digest,
    ]);
    expect(await eventReasons(env.client, env.ns, "bank-churn")).toContain("NewVersionSelected");
  });

  it("deletes the Deployment and Service with the ChurnModel", async () => {
    await env.client.delete(churnModelType, env.ns, "bank");
    await waitFor("serving Deployment and Service to be garbage-collected", async () => {
      const name = `bank-${trained.status?.model?.digest.slice(0, 10)}`;
      const d = await env.client.get<V1Deployment>(Resources.deployments, env.ns, name);
      const s = await env.client.get(Resources.services, env.ns, "bank");
      return !d && !s;
    });
  });

  it("exposes controller-runtime metrics and is ready", async () => {
    expect(await op.probe("/readyz")).toBe(200);
    expect(
      await op.metric("controller_runtime_reconcile_total", { controller: "trainingrun" }),
    ).toBeGreaterThan(0);
    expect(await op.metric("leader_election_master_status")).toBe(1);
    expect(await op.metrics()).toContain('workqueue_depth{name="churnmodel"');
    expect(await op.metric("process_resident_memory_bytes")).toBeGreaterThan(0);
    // Every run of this file counted exactly once, however many passes and watch events it
    // took: churn and churn-2 succeeded, leak and broken failed validation, strict a gate.
    const completions = (result: string, reason: string) =>
      op.metric("churn_trainingrun_completions_total", { result, reason });
    expect(await completions("succeeded", "Succeeded")).toBe(2);
    expect(await completions("failed", "DataValidationFailed")).toBe(2);
    expect(await completions("failed", "GateFailed")).toBe(1);
    expect(await op.metric("churn_trainingrun_completions_total")).toBe(5);
    expect(await op.metric("churn_trainingrun_duration_seconds_count")).toBe(5);
  });

  it("counts a ChurnModel source that cannot resolve as a terminal reconcile error", async () => {
    const terminal = () =>
      op.metric("controller_runtime_terminal_reconcile_errors_total", {
        controller: "churnmodel",
      });
    const before = await terminal();
    await apply(env.client, {
      apiVersion: "churn.mlops.dev/v1alpha1",
      kind: "ChurnModel",
      metadata: { name: "elsewhere", namespace: env.ns },
      spec: {
        // A scheme no store serves (s3:// is served since issue 12).
        source: { artifact: { uri: `gs://models/${"1".repeat(64)}`, digest: "1".repeat(64) } },
        replicas: 1,
      },
    } as ChurnModel);
    const model = await waitFor("the ChurnModel to fail on its artifact URI", async () => {
      const m = await env.client.get<ChurnModel>(churnModelType, env.ns, "elsewhere");
      return m?.status?.phase === "Failed" ? m : undefined;
    });
    const degraded = model.status?.conditions?.find((c) => c.type === "Degraded");
    expect([degraded?.status, degraded?.reason]).toEqual(["True", "InvalidSpec"]);
    expect(degraded?.message).toContain("gs://");
    await waitFor("the terminal error to be counted", async () =>
      (await terminal()) > before ? true : undefined,
    );
    // Terminal errors are reconcile errors too (controller-runtime counts them in both).
    expect(
      await op.metric("controller_runtime_reconcile_errors_total", { controller: "churnmodel" }),
    ).toBeGreaterThanOrEqual(await terminal());
    expect(op.logged("reconcile failed", { controller: "churnmodel", terminal: true })).toBe(true);
    await env.client.delete(churnModelType, env.ns, "elsewhere");
  });
});
