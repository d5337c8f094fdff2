import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { putObjectViaFiler, type S3Server, startS3Server } from "../../../cluster/s3-server.js";
import { noProcessNode, testCluster } from "../../../cluster/testing/index.js";
import type { TrainingRun } from "../../../operator/src/api/training-run.js";
import { apply } from "./support/kube.js";
import { type OperatorEnv, seedTrainingRun, setupOperatorEnv } from "./support/operator-env.js";
import type { OperatorProcess } from "./support/operator-process.js";
import { waitForRunFinished } from "./support/status.js";
import { CUSTOMERS } from "./support/synthetic-customers.js";

// A TrainingRun whose data is in S3: a real SeaweedFS on this host (started here, on free
// ports), reached by the trainer pod through the pod bridge's gateway, with its keys in a
// Secret. The synthetic customers are the env's own (`churn_trainer synth`).

const BUCKET = "churn-data";

describe.skipIf(noProcessNode)("a TrainingRun reading its data from S3 (SeaweedFS)", () => {
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

  const s3Run = (name: string, credentialsSecret: string) =>
    seedTrainingRun(env.ns, name, (spec) => {
      spec.dataset = {
        s3: {
          bucket: BUCKET,
          key: `days/${CUSTOMERS.path}`,
          endpoint: s3.podEndpoint,
          credentialsSecret,
        },
      };
      spec.backoffLimit = 0; // a refused key is not retried into a longer test
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
    await apply(env.client, s3Run("wrong-keys", "s3-wrong"));
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
