import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { putObjectViaFiler, type S3Server, startS3Server } from "../../../cluster/s3-server.js";
import { noProcessNode, testCluster } from "../../../cluster/testing/index.js";
import { waitFor } from "../../../cluster/testing/wait-for.js";
import type { ChurnModel } from "../../../operator/src/api/churn-model.js";
import type { TrainingRun } from "../../../operator/src/api/training-run.js";
import { churnModelType } from "../../../operator/src/controllers/shared/custom-resources.js";
import { apply } from "./support/kube.js";
import {
  type OperatorEnv,
  seedTrainingRun,
  servingModel,
  setupOperatorEnv,
} from "./support/operator-env.js";
import type { OperatorProcess } from "./support/operator-process.js";
import { eventReasons, waitForModelReady, waitForRunFinished } from "./support/status.js";

// The operator's S3 model store (--model-store): a TrainingRun's trainer publishes its artifact
// to a real SeaweedFS instead of the PVC, its status names the s3:// URI, a ChurnModel serving
// the run downloads it with the store's Secret, and an artifact changed in the store after its
// _COMPLETE manifest is refused by the serving pod, which the ChurnModel reports.

const BUCKET = "churn-models";
const PREFIX = "trained/";

describe.skipIf(noProcessNode)("the operator's S3 model store (SeaweedFS)", () => {
  let env: OperatorEnv;
  let op: OperatorProcess;
  let s3: S3Server;
  let s3Dir: string;
  let run: TrainingRun;

  beforeAll(async () => {
    env = await setupOperatorEnv("s3store");
    s3Dir = mkdtempSync(join(tmpdir(), "churn-s3-"));
    s3 = await startS3Server({ dir: s3Dir });
    await putObjectViaFiler(s3, BUCKET, "README", "the operator's model store\n");
    const { accessKeyId, secretAccessKey } = s3.credentials;
    await testCluster().core.createNamespacedSecret({
      namespace: env.ns,
      body: {
        metadata: { name: "model-store" },
        stringData: { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey },
      },
    });
    op = await env.startOperator("op-s3-store", [
      `--model-store=s3://${BUCKET}/${PREFIX}`,
      "--model-store-secret=model-store",
      `--model-store-endpoint=${s3.podEndpoint}`,
    ]);
    await apply(env.client, seedTrainingRun(env.ns, "to-s3"));
    run = await waitForRunFinished(env.client, env.ns, "to-s3");
  });

  afterAll(async () => {
    await env?.cleanup();
    await s3?.stop();
    if (s3Dir) rmSync(s3Dir, { recursive: true, force: true });
  });

  it("publishes the trained artifact to the store, not the PVC", async () => {
    expect(run.status?.phase, `${JSON.stringify(run.status)}\n${op.tail()}`).toBe("Succeeded");
    const digest = run.status?.model?.digest ?? "";
    expect(run.status?.model?.uri).toBe(`s3://${BUCKET}/${PREFIX}${digest}/`);
    const manifest = await fetch(`${s3.filerUrl}/buckets/${BUCKET}/${PREFIX}${digest}/_COMPLETE`);
    expect(manifest.ok).toBe(true);
    expect(((await manifest.json()) as { digest: string }).digest).toBe(digest);
  });

  it("serves the run through a ChurnModel whose pods download it with the store's Secret", async () => {
    await apply(env.client, servingModel(env.ns, "served", "to-s3", { replicas: 1 }));
    const ready = await waitForModelReady(env.client, env.ns, "served");
    expect(ready.status?.serving?.uri).toBe(run.status?.model?.uri);
  });

  it("refuses an artifact changed in the store after its manifest, saying why", async () => {
    const digest = run.status?.model?.digest ?? "";
    const key = `${PREFIX}${digest}/model.onnx`;
    const original = await fetch(`${s3.filerUrl}/buckets/${BUCKET}/${key}`);
    const bytes = new Uint8Array(await original.arrayBuffer());
    bytes[bytes.length - 1] = (bytes.at(-1) ?? 0) ^ 0xff;
    await putObjectViaFiler(s3, BUCKET, key, bytes);
    const uri = run.status?.model?.uri ?? "";
    await apply(env.client, {
      ...servingModel(env.ns, "tampered", "to-s3", { replicas: 1 }),
      spec: { source: { artifact: { uri, digest } }, replicas: 1 },
    } as ChurnModel);
    const refused = await waitFor(
      "ChurnModel tampered Degraded with ArtifactRejected",
      async () => {
        const m = await env.client.get<ChurnModel>(churnModelType, env.ns, "tampered");
        return m?.status?.phase === "Degraded" && m.status.readyReplicas === 0 ? m : undefined;
      },
      { timeoutMs: 180_000 },
    );
    const ready = refused.status?.conditions?.find((c) => c.type === "Ready");
    expect([ready?.status, ready?.reason]).toEqual(["False", "ArtifactRejected"]);
    const degraded = refused.status?.conditions?.find((c) => c.type === "Degraded");
    expect(degraded?.message).toContain("model.onnx");
    expect(degraded?.message).toContain("changed or truncated after upload");
    expect(await eventReasons(env.client, env.ns, "tampered")).toContain("ArtifactRejected");
  });
});
