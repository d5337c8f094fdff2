import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { putObjectViaFiler, type S3Server, startS3Server } from "../../../cluster/s3-server.js";
import { noProcessNode, testCluster } from "../../../cluster/testing/index.js";
import type { ChurnModel } from "../../../operator/src/api/churn-model.js";
import type { TrainingRun } from "../../../operator/src/api/training-run.js";
import { repoRoot } from "./support/install.js";
import { apply } from "./support/kube.js";
import { type OperatorEnv, seedTrainingRun, setupOperatorEnv } from "./support/operator-env.js";
import type { OperatorProcess } from "./support/operator-process.js";
import { waitForModelReady, waitForRunFinished } from "./support/status.js";
import { CUSTOMERS } from "./support/synthetic-customers.js";

// Data and models in S3: a real SeaweedFS on this host (started here, on free ports), reached
// by the pods through the pod bridge's gateway, with its keys in a Secret. A TrainingRun reads
// the env's synthetic customers (`churn_trainer synth`) from it; its artifact, published to
// the same server by the trainer's model store, is served by a ChurnModel whose pods download
// it at start.

const BUCKET = "churn-data";

describe.skipIf(noProcessNode)("data and models in S3 (SeaweedFS)", () => {
  const cluster = testCluster();
  let env: OperatorEnv;
  let op: OperatorProcess;
  let s3: S3Server;
  let s3Dir: string;
  let good: TrainingRun;
  let wrongKeys: TrainingRun;

  /** A Secret holding an S3 key pair under the names the trainer's environment expects. */
  const secret = (name: string, accessKeyId: string, secretAccessKey: string) =>
    cluster.core.createNamespacedSecret({
      namespace: env.ns,
      body: {
        metadata: { name },
        stringData: { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey },
      },
    });

  const s3Run = (name: string, credentialsSecret: string, backoffLimit?: number) =>
    seedTrainingRun(env.ns, name, (spec) => {
      spec.dataset = {
        s3: {
          bucket: BUCKET,
          key: `days/${CUSTOMERS.path}`,
          endpoint: s3.podEndpoint,
          credentialsSecret,
        },
      };
      if (backoffLimit !== undefined) spec.backoffLimit = backoffLimit;
    });

  beforeAll(async () => {
    env = await setupOperatorEnv("s3data");
    s3Dir = mkdtempSync(join(tmpdir(), "churn-s3-"));
    [op, s3] = await Promise.all([env.startOperator("op-s3"), startS3Server({ dir: s3Dir })]);
    const csv = readFileSync(join(env.dataDir, CUSTOMERS.path));
    await putObjectViaFiler(s3, BUCKET, `days/${CUSTOMERS.path}`, csv);
    const { accessKeyId, secretAccessKey } = s3.credentials;
    await secret("s3-credentials", accessKeyId, secretAccessKey);
    await secret("s3-wrong", accessKeyId, `${secretAccessKey.slice(0, -4)}XXXX`);
    await apply(env.client, s3Run("from-s3", "s3-credentials"));
    // A refused key is not retried into a longer test.
    await apply(env.client, s3Run("wrong-keys", "s3-wrong", 0));
    [good, wrongKeys] = await Promise.all([
      waitForRunFinished(env.client, env.ns, "from-s3"),
      waitForRunFinished(env.client, env.ns, "wrong-keys"),
    ]);
  });

  afterAll(async () => {
    await env?.cleanup();
    await s3?.stop();
    if (s3Dir) rmSync(s3Dir, { recursive: true, force: true });
  });

  it("trains on the object and records where the data came from", () => {
    expect(good.status?.phase, `${JSON.stringify(good.status)}\n${op.tail()}`).toBe("Succeeded");
    expect(good.status?.model?.digest).toMatch(/^[0-9a-f]{64}$/);
    const dv = good.status?.conditions?.find((c) => c.type === "DataValidated");
    expect(dv?.status).toBe("True");
    expect(dv?.message).toContain(`${CUSTOMERS.rows} rows`);
  });

  it("serves the run's artifact from the S3 model store, downloaded by each pod at start", async () => {
    const digest = good.status?.model?.digest ?? "";
    const uri = publishArtifact(s3, join(env.modelsDir, digest), "s3://churn-models/bank/");
    expect(uri).toBe(`s3://churn-models/bank/${digest}/`);
    const model: ChurnModel = {
      apiVersion: "churn.mlops.dev/v1alpha1",
      kind: "ChurnModel",
      metadata: { name: "from-s3", namespace: env.ns },
      spec: {
        source: {
          artifact: {
            uri,
            digest,
            s3: { endpoint: s3.podEndpoint, credentialsSecret: "s3-credentials" },
          },
        },
        replicas: 1,
      },
    } as ChurnModel;
    await apply(env.client, model);
    const ready = await waitForModelReady(env.client, env.ns, "from-s3");
    expect(ready.status?.phase).toBe("Ready");
    const pods = await cluster.core.listNamespacedPod({
      namespace: env.ns,
      labelSelector: "churn.mlops.dev/churn-model=from-s3",
    });
    const pod = pods.items.find((p) => p.status?.phase === "Running");
    expect(pod?.spec?.initContainers?.[0]?.args).toEqual([
      "fetch-artifact",
      uri,
      "--dest",
      "/models",
    ]);
    expect(pod?.status?.initContainerStatuses?.[0]?.state?.terminated?.exitCode).toBe(0);
  });

  it("fails a run with a wrong secret key, naming the problem in its DataValidated condition", () => {
    expect(wrongKeys.status?.phase, JSON.stringify(wrongKeys.status)).toBe("Failed");
    const dv = wrongKeys.status?.conditions?.find((c) => c.type === "DataValidated");
    expect(dv?.status).toBe("False");
    expect(dv?.message).toContain("SignatureDoesNotMatch");
    expect(dv?.message).toContain("AWS_SECRET_ACCESS_KEY");
    expect(dv?.message).toContain(`s3://${BUCKET}/days/${CUSTOMERS.path}`);
    expect(wrongKeys.status?.model).toBeUndefined();
  });
});

/** Publishes a local artifact directory to `prefix` with the trainer's model store. */
function publishArtifact(s3: S3Server, dir: string, prefix: string): string {
  const code = [
    "import sys; from pathlib import Path",
    "from churn_trainer.model_store import upload_artifact",
    "from churn_trainer.spec import S3Options",
    "print(upload_artifact(Path(sys.argv[1]), sys.argv[2], S3Options(sys.argv[3]))[0])",
  ].join("\n");
  const python = join(repoRoot, ".venv", "bin", "python");
  return execFileSync(python, ["-c", code, dir, prefix, s3.endpoint], {
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    },
    encoding: "utf8",
  }).trim();
}
