import { describe, expect, it } from "vitest";
import { Defaults } from "../../api/defaults.js";
import type { TrainingRun } from "../../api/training-run.js";
import {
  buildTrainingJob,
  buildTrainingSpecConfigMap,
  trainedArtifactUri,
} from "./build-training-job.js";

const settings = {
  trainerImage: "churn-operator/trainer:1",
  modelStorePvc: "churn-models",
  serviceAccount: "churn-trainer",
  imagePullPolicy: "IfNotPresent",
};
const run = (dataset: TrainingRun["spec"]["dataset"], over: Partial<TrainingRun["spec"]> = {}) =>
  ({
    apiVersion: "churn.mlops.dev/v1alpha1",
    kind: "TrainingRun",
    metadata: { name: "bank", namespace: "ns", uid: "uid-1" },
    spec: { dataset, schema: { target: { column: "Exited" }, features: [] }, ...over },
  }) as unknown as TrainingRun;

describe("buildTrainingJob", () => {
  const job = buildTrainingJob(run({ hostPath: { path: "/srv/data/churn.csv" } }), settings);
  const pod = job.spec?.template.spec;
  const c = pod?.containers[0];
  const v = pod?.initContainers?.[0];

  it("validates the data first, in an init container of the same image, without the model store", () => {
    expect(pod?.initContainers).toHaveLength(1);
    expect(v?.name).toBe("validate");
    expect(v?.image).toBe(c?.image);
    expect(v?.args).toEqual([
      "validate",
      "--spec",
      "/etc/churn-trainer/spec.json",
      "--data",
      "/data/churn.csv",
      "--termination-log",
      "/dev/termination-log",
    ]);
    expect(v?.terminationMessagePath).toBe("/dev/termination-log");
    expect(v?.terminationMessagePolicy).toBe("File");
    expect(v?.securityContext).toEqual(c?.securityContext);
    expect(v?.env).toEqual(c?.env);
    const mounts = (x: typeof c) => x?.volumeMounts?.map((m) => `${m.name}:${m.mountPath}`);
    expect(mounts(v)).toEqual(mounts(c)?.filter((m) => !m.startsWith("models:")));
    expect(v?.volumeMounts?.find((m) => m.name === "data")?.readOnly).toBe(true);
  });

  it("runs the trainer with the spec file, model store, data and termination log", () => {
    expect(c?.image).toBe("churn-operator/trainer:1");
    expect(c?.args).toEqual([
      "train",
      "--spec",
      "/etc/churn-trainer/spec.json",
      "--output",
      "/models",
      "--data",
      "/data/churn.csv",
      "--termination-log",
      "/dev/termination-log",
    ]);
    expect(pod?.volumes?.find((v) => v.name === "data")?.hostPath?.path).toBe("/srv/data");
    expect(pod?.volumes?.find((v) => v.name === "models")?.persistentVolumeClaim?.claimName).toBe(
      "churn-models",
    );
  });

  it("is hardened: no API token, non-root, read-only root, no escalation, RuntimeDefault seccomp", () => {
    expect(pod?.automountServiceAccountToken).toBe(false);
    expect(pod?.serviceAccountName).toBe("churn-trainer");
    expect(pod?.securityContext?.runAsNonRoot).toBe(true);
    expect(pod?.securityContext?.seccompProfile?.type).toBe("RuntimeDefault");
    expect(c?.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(c?.volumeMounts?.find((m) => m.mountPath === "/tmp")).toBeDefined();
  });

  it("bounds retries and lifetime, fails at once on data or gate failure, and is owned by the run", () => {
    expect(job.spec?.backoffLimit).toBe(Defaults.backoffLimit);
    expect(job.spec?.activeDeadlineSeconds).toBe(Defaults.activeDeadlineSeconds);
    expect(job.spec?.ttlSecondsAfterFinished).toBe(Defaults.ttlSecondsAfterFinished);
    // Each container's verdicts are terminal: the validator's exit 2, the trainer's 2 and 3.
    expect(job.spec?.podFailurePolicy?.rules.slice(0, 2)).toEqual([
      {
        action: "FailJob",
        onExitCodes: { containerName: "validate", operator: "In", values: [2] },
      },
      {
        action: "FailJob",
        onExitCodes: { containerName: "trainer", operator: "In", values: [2, 3] },
      },
    ]);
    expect(pod?.restartPolicy).toBe("Never");
    expect(job.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: "TrainingRun",
      uid: "uid-1",
      controller: true,
    });
  });

  it("mounts a PVC data set read-only and passes a URL through", () => {
    const pvc = buildTrainingJob(
      run({ persistentVolumeClaim: { claimName: "d", path: "seed/x.csv" } }),
      settings,
    );
    expect(pvc.spec?.template.spec?.containers[0]?.args).toContain("/data/seed/x.csv");
    expect(pvc.spec?.template.spec?.initContainers?.[0]?.args).toContain("/data/seed/x.csv");
    expect(
      pvc.spec?.template.spec?.volumes?.find((v) => v.name === "data")?.persistentVolumeClaim
        ?.readOnly,
    ).toBe(true);
    const url = buildTrainingJob(run({ url: "https://example.com/x.csv" }), settings);
    expect(url.spec?.template.spec?.containers[0]?.args).toContain("https://example.com/x.csv");
    expect(url.spec?.template.spec?.initContainers?.[0]?.args).toContain(
      "https://example.com/x.csv",
    );
    expect(url.spec?.template.spec?.volumes?.some((v) => v.name === "data")).toBe(false);
  });

  it("reads an S3 data set with the credentials Secret as env, never in the spec", () => {
    const s3 = {
      bucket: "data",
      key: "churn/x.parquet",
      endpoint: "http://10.244.0.1:8333",
      credentialsSecret: "s3-creds",
    };
    const j = buildTrainingJob(run({ s3 }), settings);
    const pod = j.spec?.template.spec;
    for (const c of [pod?.containers[0], pod?.initContainers?.[0]]) {
      expect(c?.args).toContain("s3://data/churn/x.parquet");
      expect(c?.env?.filter((e) => e.name.startsWith("AWS_"))).toEqual([
        {
          name: "AWS_ACCESS_KEY_ID",
          valueFrom: { secretKeyRef: { name: "s3-creds", key: "AWS_ACCESS_KEY_ID" } },
        },
        {
          name: "AWS_SECRET_ACCESS_KEY",
          valueFrom: { secretKeyRef: { name: "s3-creds", key: "AWS_SECRET_ACCESS_KEY" } },
        },
      ]);
    }
    expect(pod?.volumes?.some((v) => v.name === "data")).toBe(false);
    const prefix = buildTrainingJob(run({ s3: { bucket: "data", prefix: "days/" } }), settings);
    const c = prefix.spec?.template.spec?.containers[0];
    expect(c?.args).toContain("s3://data/days/");
    expect(c?.env?.some((e) => e.name.startsWith("AWS_"))).toBe(false);
    const cm = buildTrainingSpecConfigMap(run({ s3, format: "parquet" }));
    expect(JSON.parse(cm.data?.["spec.json"] ?? "").dataset).toEqual({
      format: "parquet",
      s3: { endpoint: "http://10.244.0.1:8333" },
    });
    expect(cm.data?.["spec.json"]).not.toContain("s3-creds");
  });

  it("clamps out-of-range limits and honours image overrides", () => {
    const j = buildTrainingJob(
      run(
        { url: "https://x/y.csv" },
        { image: "mine:2", activeDeadlineSeconds: 5, backoffLimit: 99 },
      ),
      settings,
    );
    expect(j.spec?.activeDeadlineSeconds).toBe(60);
    expect(j.spec?.backoffLimit).toBe(10);
    expect(j.spec?.template.spec?.containers[0]?.image).toBe("mine:2");
    expect(j.spec?.template.spec?.initContainers?.[0]?.image).toBe("mine:2");
  });
});

describe("buildTrainingSpecConfigMap", () => {
  it("holds the trainer spec as JSON without Kubernetes-only fields", () => {
    const cm = buildTrainingSpecConfigMap(run({ url: "https://x/y.csv" }, { image: "mine:2" }));
    expect(Object.keys(cm.data ?? {})).toEqual(["spec.json"]);
    const spec = JSON.parse(cm.data?.["spec.json"] ?? "");
    expect(spec).toEqual({ schema: { target: { column: "Exited" }, features: [] } });
    expect(cm.metadata?.ownerReferences?.[0]?.uid).toBe("uid-1");
  });
});

describe("buildTrainingJob with the operator's S3 model store", () => {
  const modelStoreS3 = {
    uri: "s3://models/churn/",
    access: { endpoint: "http://s3:8333", region: "eu-west-1", credentialsSecret: "store" },
  };
  const s3Data = { s3: { bucket: "data", key: "c.csv", credentialsSecret: "data-creds" } };
  const job = buildTrainingJob(run(s3Data), { ...settings, modelStoreS3 });
  const pod = job.spec?.template.spec;
  const c = pod?.containers[0];

  it("publishes to the store instead of mounting the PVC", () => {
    expect(c?.args?.slice(3, 5)).toEqual(["--output", "s3://models/churn/"]);
    expect(pod?.volumes?.map((v) => v.name)).not.toContain("models");
    expect(c?.volumeMounts?.map((m) => m.name)).not.toContain("models");
    expect(trainedArtifactUri({ ...settings, modelStoreS3 }, "ab")).toBe("s3://models/churn/ab/");
    expect(trainedArtifactUri(settings, "ab")).toBe("pvc://churn-models/ab");
  });

  it("gives the trainer the store's keys from its Secret under names that do not clash with the data set's", () => {
    const env = c?.env ?? [];
    const byName = (n: string) => env.find((e) => e.name === n);
    expect(byName("CHURN_MODEL_STORE_ENDPOINT")?.value).toBe("http://s3:8333");
    expect(byName("CHURN_MODEL_STORE_REGION")?.value).toBe("eu-west-1");
    expect(byName("CHURN_MODEL_STORE_ACCESS_KEY_ID")?.valueFrom?.secretKeyRef).toEqual({
      name: "store",
      key: "AWS_ACCESS_KEY_ID",
    });
    expect(byName("CHURN_MODEL_STORE_SECRET_ACCESS_KEY")?.valueFrom?.secretKeyRef?.name).toBe(
      "store",
    );
    expect(byName("AWS_ACCESS_KEY_ID")?.valueFrom?.secretKeyRef?.name).toBe("data-creds");
    // The validator reads data only: it never sees the store's keys.
    const validator = pod?.initContainers?.[0]?.env?.map((e) => e.name) ?? [];
    expect(validator.filter((n) => n.startsWith("CHURN_MODEL_STORE"))).toEqual([]);
  });
});
