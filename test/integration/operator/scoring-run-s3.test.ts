import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { putObjectViaFiler, type S3Server, startS3Server } from "../../../cluster/s3-server.js";
import { noProcessNode, testCluster, waitFor } from "../../../cluster/testing/index.js";
import type { ScoringRun } from "../../../operator/src/api/scoring-run.js";
import { scoringRunType } from "../../../operator/src/controllers/shared/custom-resources.js";
import { apply } from "./support/kube.js";
import { addPartRows, customerRows, expectOnlineScoresEqual } from "./support/online-scores.js";
import {
  noSeed,
  type OperatorEnv,
  seedCsv,
  seedTrainingRun,
  servingModel,
  setupOperatorEnv,
} from "./support/operator-env.js";
import { eventReasons, waitForModelReady, waitForRunFinished } from "./support/status.js";
import { CUSTOMERS } from "./support/synthetic-customers.js";

// Batch scoring with everything in S3 (a real SeaweedFS started here): an operator with the S3
// model store trains a model into it, a ChurnModel serves it, and a ScoringRun with 4 shards
// reads the synthetic customers from S3, scores them with that s3:// model (fetched and checked
// by each shard's init container) and writes its parts to an S3 prefix: one row per customer,
// equal to POST /v1/score for a sample. Wrong keys fail the run with a reason that says so.

const STORE = "churn-models";

describe.skipIf(noProcessNode)("ScoringRun from and to S3 (SeaweedFS)", () => {
  let env: OperatorEnv;
  let s3: S3Server;
  let s3Dir: string;

  const secret = (name: string, accessKeyId: string, secretAccessKey: string) =>
    testCluster().core.createNamespacedSecret({
      namespace: env.ns,
      body: {
        metadata: { name },
        stringData: { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey },
      },
    });

  const scoringRun = (
    name: string,
    credentialsSecret: string,
    prefix: string,
    input: { key: string } | { prefix: string } = { key: `all/${CUSTOMERS.path}` },
  ): ScoringRun => {
    const access = { endpoint: s3.podEndpoint, credentialsSecret };
    return {
      apiVersion: "churn.mlops.dev/v1alpha1",
      kind: "ScoringRun",
      metadata: { name, namespace: env.ns },
      spec: {
        model: { churnModelRef: { name: "bank" } },
        input: { s3: { bucket: "customers", ...input, ...access } },
        output: { s3: { bucket: "scores", prefix, ...access } },
        shards: 4,
        backoffLimitPerIndex: 0,
      } as ScoringRun["spec"],
    };
  };

  const waitForScoring = (name: string) =>
    waitFor(
      `ScoringRun ${name} to finish`,
      async () => {
        const r = await env.client.get<ScoringRun>(scoringRunType, env.ns, name);
        return r?.status?.phase === "Succeeded" || r?.status?.phase === "Failed" ? r : undefined;
      },
      { timeoutMs: 300_000 },
    );

  beforeAll(async () => {
    env = await setupOperatorEnv("score-s3");
    s3Dir = mkdtempSync(join(tmpdir(), "churn-s3-"));
    s3 = await startS3Server({ dir: s3Dir });
    const csv = readFileSync(join(env.dataDir, CUSTOMERS.path));
    await putObjectViaFiler(s3, "customers", `all/${CUSTOMERS.path}`, csv);
    for (const bucket of [STORE, "scores"]) await putObjectViaFiler(s3, bucket, "README", "-\n");
    const { accessKeyId, secretAccessKey } = s3.credentials;
    await secret("s3-keys", accessKeyId, secretAccessKey);
    await secret("s3-wrong", accessKeyId, `${secretAccessKey.slice(0, -4)}XXXX`);
    await env.startOperator("op-score-s3", [
      `--model-store=s3://${STORE}/trained/`,
      "--model-store-secret=s3-keys",
      `--model-store-endpoint=${s3.podEndpoint}`,
    ]);
    await apply(env.client, seedTrainingRun(env.ns, "churn"));
    const trained = await waitForRunFinished(env.client, env.ns, "churn");
    expect(trained.status?.model?.uri, JSON.stringify(trained.status)).toMatch(/^s3:\/\//);
    await apply(env.client, servingModel(env.ns, "bank", "churn", { replicas: 1 }));
    await waitForModelReady(env.client, env.ns, "bank");
  }, 900_000);

  afterAll(async () => {
    await env?.cleanup();
    await s3?.stop();
    if (s3Dir) rmSync(s3Dir, { recursive: true, force: true });
  });

  it("scores every customer once over 4 shards from S3 to S3, equal to POST /v1/score", async () => {
    await apply(env.client, scoringRun("nightly", "s3-keys", "nightly/"));
    const run = await waitForScoring("nightly");
    expect(run.status?.phase, JSON.stringify(run.status)).toBe("Succeeded");
    expect(run.status?.model?.uri).toMatch(new RegExp(`^s3://${STORE}/trained/[0-9a-f]{64}/$`));
    expect(run.status?.rows).toEqual({ scored: CUSTOMERS.rows, rejected: 0 });
    expect(run.status?.output?.location).toBe("s3://scores/nightly/");
    const scored = new Map<string, number>();
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${s3.filerUrl}/buckets/scores/nightly/part-${i}.parquet`);
      expect(res.status, `part-${i}.parquet`).toBe(200);
      await addPartRows(await res.arrayBuffer(), scored);
    }
    const { header, rows } = customerRows(env.dataDir);
    const idAt = header.indexOf("CustomerId");
    expect([...scored.keys()].sort()).toEqual(rows.map((r) => r[idAt]).sort());
    await expectOnlineScoresEqual(env.client, env.ns, "bank", env.dataDir, scored);
  });

  // The issue's own proof, on the seed customers (10,000; read from ../shared, never copied),
  // or on the synthetic customers in a clone without ../shared: uploaded under a prefix with a
  // _SUCCESS marker, so the operator's prefix path runs too.
  it("scores the seed (else synthetic) customers under an S3 prefix over 4 shards: one row per customer, equal to POST /v1/score", async () => {
    const csv = noSeed ? join(env.dataDir, CUSTOMERS.path) : seedCsv;
    await putObjectViaFiler(s3, "customers", "seed/customers.csv", readFileSync(csv));
    await putObjectViaFiler(s3, "customers", "seed/_SUCCESS", "");
    await apply(env.client, scoringRun("seed", "s3-keys", "seed-scores/", { prefix: "seed/" }));
    const run = await waitForScoring("seed");
    expect(run.status?.phase, JSON.stringify(run.status)).toBe("Succeeded");
    const { header, rows } = customerRows(env.dataDir, csv);
    expect(run.status?.rows).toEqual({ scored: rows.length, rejected: 0 });
    // The 4 shards listed the prefix alike (else the run fails with InputChanged).
    const listings = run.status?.shardResults?.map((r) => r.inputListing);
    expect(listings).toHaveLength(4);
    expect(new Set(listings).size, JSON.stringify(listings)).toBe(1);
    expect(listings?.[0]).toMatch(/^[0-9a-f]{16}$/);
    const scored = new Map<string, number>();
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${s3.filerUrl}/buckets/scores/seed-scores/part-${i}.parquet`);
      expect(res.status, `part-${i}.parquet`).toBe(200);
      await addPartRows(await res.arrayBuffer(), scored);
    }
    const idAt = header.indexOf("CustomerId");
    expect([...scored.keys()].sort()).toEqual(rows.map((r) => r[idAt]).sort());
    await expectOnlineScoresEqual(env.client, env.ns, "bank", env.dataDir, scored, csv);
  });

  it("fails a run whose keys the store refuses with S3CredentialsRefused, naming the Secret's keys", async () => {
    await apply(env.client, scoringRun("wrong-keys", "s3-wrong", "wrong/"));
    const run = await waitForScoring("wrong-keys");
    expect(run.status?.phase).toBe("Failed");
    const done = run.status?.conditions?.find((c) => c.type === "Succeeded");
    expect(done?.reason, JSON.stringify(run.status)).toBe("S3CredentialsRefused");
    expect(done?.message).toContain("AWS_SECRET_ACCESS_KEY");
    expect(done?.message).toContain(`s3://customers/all/${CUSTOMERS.path}`);
    expect(await eventReasons(env.client, env.ns, "wrong-keys")).toContain("S3CredentialsRefused");
  });

  it("fails a run whose s3:// model was changed after its manifest with ArtifactRejected", async () => {
    // Last: it spoils the model in the store for whatever would read it next.
    const uri = (await env.client.get<ScoringRun>(scoringRunType, env.ns, "nightly"))?.status?.model
      ?.uri as string;
    const key = `${uri.slice(`s3://${STORE}/`.length)}model.onnx`;
    const bytes = new Uint8Array(
      await (await fetch(`${s3.filerUrl}/buckets/${STORE}/${key}`)).arrayBuffer(),
    );
    bytes[0] = (bytes[0] ?? 0) ^ 0xff;
    await putObjectViaFiler(s3, STORE, key, bytes);
    await apply(env.client, scoringRun("tampered", "s3-keys", "tampered/"));
    const run = await waitForScoring("tampered");
    const done = run.status?.conditions?.find((c) => c.type === "Succeeded");
    expect([run.status?.phase, done?.reason], JSON.stringify(run.status)).toEqual([
      "Failed",
      "ArtifactRejected",
    ]);
    expect(done?.message).toContain("changed or truncated after upload");
    expect(run.status?.rows?.scored ?? 0).toBe(0);
  });
});
