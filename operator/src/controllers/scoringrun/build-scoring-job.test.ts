import { describe, expect, it } from "vitest";
import { BatchExit } from "../../../../runtime/src/batch/shard-summary.js";
import { parseArtifactUri } from "../../api/artifact-uri.js";
import { type ScoringRun, scoringRunSpecSchema } from "../../api/scoring-run.js";
import { buildScoringJob, ScoringPaths, UnsupportedSpecError } from "./build-scoring-job.js";

const digest = "b".repeat(64);
const model = { digest, location: parseArtifactUri(`pvc://churn-models/${digest}`) };
const settings = { runtimeImage: "churn-operator/runtime:dev", imagePullPolicy: "IfNotPresent" };

function run(spec: Record<string, unknown> = {}): ScoringRun {
  return {
    apiVersion: "churn.mlops.dev/v1alpha1",
    kind: "ScoringRun",
    metadata: { name: "nightly", namespace: "team-a", uid: "u1" },
    spec: scoringRunSpecSchema.parse({
      model: { digest },
      input: { persistentVolumeClaim: { claimName: "data", path: "in/customers.parquet" } },
      output: { persistentVolumeClaim: { claimName: "scores", path: "2026-11-30" } },
      ...spec,
    }),
  };
}

const argAfter = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe("buildScoringJob", () => {
  it("is one Indexed Job: a completion per shard, retried per index, the batch mode per pod", () => {
    const job = buildScoringJob(
      run({ shards: 4, parallelism: 2, explain: { topK: 3 } }),
      model,
      settings,
    );
    expect(job.metadata?.name).toBe("nightly-score");
    expect(job.metadata?.ownerReferences?.[0]?.controller).toBe(true);
    expect(job.spec).toMatchObject({
      completionMode: "Indexed",
      completions: 4,
      parallelism: 2,
      backoffLimitPerIndex: 2,
      maxFailedIndexes: 0,
    });
    const pod = job.spec?.template.spec;
    expect(pod?.restartPolicy).toBe("Never");
    expect(pod?.automountServiceAccountToken).toBe(false);
    const c = pod?.containers[0];
    const args = c?.args ?? [];
    expect(args[0]).toBe("batch");
    expect(argAfter(args, "--model-dir")).toBe(`${ScoringPaths.models}/${digest}`);
    expect(argAfter(args, "--expected-digest")).toBe(digest);
    expect(argAfter(args, "--input")).toBe(`${ScoringPaths.input}/in/customers.parquet`);
    expect(argAfter(args, "--output")).toBe(`${ScoringPaths.output}/2026-11-30`);
    expect(argAfter(args, "--output-format")).toBe("parquet");
    expect(argAfter(args, "--shards")).toBe("4");
    expect(argAfter(args, "--explain-top-k")).toBe("3");
    expect(argAfter(args, "--summary-file")).toBe(c?.terminationMessagePath);
    // The index is not an argument: each pod reads JOB_COMPLETION_INDEX.
    expect(args).not.toContain("--index");
    const mounts = Object.fromEntries((c?.volumeMounts ?? []).map((m) => [m.name, m]));
    expect(mounts.input?.readOnly).toBe(true);
    expect(mounts.models?.readOnly).toBe(true);
    expect(mounts.output?.readOnly).toBeUndefined();
  });

  it("fails the Job on an unusable model or input, fails only the index on too many rejects", () => {
    const rules = buildScoringJob(run(), model, settings).spec?.podFailurePolicy?.rules ?? [];
    const on = (code: number) => rules.find((r) => r.onExitCodes?.values.includes(code))?.action;
    expect(on(BatchExit.unusable)).toBe("FailJob");
    expect(on(BatchExit.tooManyRejects)).toBe("FailIndex");
    expect(rules.find((r) => r.onPodConditions)?.action).toBe("Ignore");
  });

  it("reads a URL as it is and a host file through its directory", () => {
    const byUrl = buildScoringJob(
      run({ input: { url: "https://d.example/c.csv" } }),
      model,
      settings,
    );
    expect(argAfter(byUrl.spec?.template.spec?.containers[0]?.args ?? [], "--input")).toBe(
      "https://d.example/c.csv",
    );
    const byHost = buildScoringJob(
      run({ input: { hostPath: { path: "/srv/c.csv" } } }),
      model,
      settings,
    );
    const vol = byHost.spec?.template.spec?.volumes?.find((v) => v.name === "input");
    expect(vol?.hostPath?.path).toBe("/srv");
  });

  it("refuses an input kind it cannot mount yet", () => {
    const r = run();
    r.spec.input = { format: "csv" } as ScoringRun["spec"]["input"];
    expect(() => buildScoringJob(r, model, settings)).toThrow(UnsupportedSpecError);
  });

  it("reads an S3 object and writes to an S3 prefix, each with its own store's keys", () => {
    const job = buildScoringJob(
      run({
        input: {
          s3: {
            bucket: "data",
            key: "in/c.parquet",
            endpoint: "http://s3:8333",
            credentialsSecret: "in",
          },
        },
        output: { s3: { bucket: "scores", prefix: "nightly/", credentialsSecret: "out" } },
      }),
      model,
      settings,
    );
    const pod = job.spec?.template.spec;
    const c = pod?.containers[0];
    expect(argAfter(c?.args ?? [], "--input")).toBe("s3://data/in/c.parquet");
    expect(argAfter(c?.args ?? [], "--output")).toBe("s3://scores/nightly/");
    expect(pod?.volumes?.map((v) => v.name).sort()).toEqual(["models", "tmp"]);
    const secretOf = (name: string) =>
      c?.env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef?.name;
    expect(secretOf("AWS_SECRET_ACCESS_KEY")).toBe("in");
    expect(secretOf("CHURN_OUTPUT_SECRET_ACCESS_KEY")).toBe("out");
    expect(c?.env).toContainEqual({ name: "AWS_ENDPOINT_URL_S3", value: "http://s3:8333" });
  });

  it("passes an S3 prefix as s3://bucket/prefix/: each shard lists it and reads its share", () => {
    for (const [prefix, uri] of [
      ["in/nightly/", "s3://data/in/nightly/"],
      ["", "s3://data/"],
    ]) {
      const job = buildScoringJob(
        run({ input: { s3: { bucket: "data", prefix, credentialsSecret: "in" } } }),
        model,
        settings,
      );
      const c = job.spec?.template.spec?.containers[0];
      expect(argAfter(c?.args ?? [], "--input")).toBe(uri);
      expect(c?.env?.map((e) => e.name)).toContain("AWS_SECRET_ACCESS_KEY");
    }
  });

  it("fetches an s3:// model in an init container into the directory the shard reads", () => {
    const uri = `s3://models/trained/${digest}/`;
    const s3Model = {
      digest,
      location: { scheme: "s3" as const, uri, access: { credentialsSecret: "store" } },
    };
    const pod = buildScoringJob(run(), s3Model, { ...settings, trainerImage: "tr:1" }).spec
      ?.template.spec;
    const fetch = pod?.initContainers?.[0];
    expect(fetch?.image).toBe("tr:1");
    expect(fetch?.args).toEqual(["fetch-artifact", uri, "--dest", ScoringPaths.models]);
    expect(fetch?.env).toContainEqual({
      name: "AWS_ACCESS_KEY_ID",
      valueFrom: { secretKeyRef: { name: "store", key: "AWS_ACCESS_KEY_ID" } },
    });
    expect(pod?.volumes?.find((v) => v.name === "models")?.emptyDir).toBeDefined();
    expect(argAfter(pod?.containers[0]?.args ?? [], "--model-dir")).toBe(`/models/${digest}`);
  });
});
