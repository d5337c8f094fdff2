import { describe, expect, it } from "vitest";
import { churnModelFixture } from "../../../test-support/churn-model-fixture.js";
import { buildServingDeployment } from "./build-serving-deployment.js";
import { buildServingService } from "./build-serving-service.js";

const digest = "f".repeat(64);
const model = churnModelFixture(
  { replicas: 2, explanations: { enabled: false }, threshold: 0.4 },
  { namespace: "ns", uid: "uid-2" },
);
const variant = {
  name: "stable" as const,
  version: { digest, uri: `pvc://churn-models/${digest}` },
  replicas: 2,
};

describe("buildServingDeployment", () => {
  const d = buildServingDeployment(model, variant, {
    runtimeImage: "churn-operator/runtime:1",
    imagePullPolicy: "Never",
  });
  const pod = d.spec?.template.spec;
  const c = pod?.containers[0];
  it("serves the artifact read-only with the digest pinned", () => {
    // Named by version, not role: promoting it later renames nothing and restarts no pod.
    expect(d.metadata?.name).toBe("bank-ffffffffff");
    expect(c?.args).toEqual([
      "serve",
      "--model-dir",
      `/models/${digest}`,
      "--port",
      "8080",
      "--expected-digest",
      digest,
    ]);
    expect(pod?.volumes?.find((v) => v.name === "models")?.persistentVolumeClaim).toEqual({
      claimName: "churn-models",
      readOnly: true,
    });
    expect(c?.volumeMounts?.find((m) => m.name === "models")?.readOnly).toBe(true);
  });
  it("downloads an s3:// artifact into an emptyDir first, with the store's endpoint and Secret", () => {
    const uri = `s3://models/bank/${digest}/`;
    const s3 = { endpoint: "http://s3:8333", region: "eu-west-1", credentialsSecret: "creds" };
    const fromS3 = churnModelFixture({ source: { artifact: { uri, digest, s3 } } });
    const settings = { runtimeImage: "rt:1", trainerImage: "tr:1", imagePullPolicy: "Never" };
    const v = { ...variant, version: { digest, uri } };
    const spec = buildServingDeployment(fromS3, v, settings).spec?.template.spec;
    expect(spec?.volumes?.find((x) => x.name === "models")?.emptyDir).toBeDefined();
    const fetch = spec?.initContainers?.[0];
    expect(fetch?.image).toBe("tr:1");
    expect(fetch?.args).toEqual(["fetch-artifact", uri, "--dest", "/models"]);
    expect(fetch?.env).toEqual([
      { name: "HOME", value: "/tmp" },
      { name: "AWS_ENDPOINT_URL_S3", value: "http://s3:8333" },
      { name: "AWS_REGION", value: "eu-west-1" },
      {
        name: "AWS_ACCESS_KEY_ID",
        valueFrom: { secretKeyRef: { name: "creds", key: "AWS_ACCESS_KEY_ID" } },
      },
      {
        name: "AWS_SECRET_ACCESS_KEY",
        valueFrom: { secretKeyRef: { name: "creds", key: "AWS_SECRET_ACCESS_KEY" } },
      },
    ]);
    expect(spec?.containers[0]?.args?.slice(0, 3)).toEqual([
      "serve",
      "--model-dir",
      `/models/${digest}`,
    ]);
    expect(spec?.containers[0]?.args).toContain("--expected-digest");
    const other = { ...v, version: { digest, uri: `s3://models/bank/${"e".repeat(64)}/` } };
    expect(() => buildServingDeployment(fromS3, other, settings)).toThrow(
      /not the directory of digest/,
    );
  });
  it("reads a trained artifact in the operator's S3 model store with the store's access", () => {
    const uri = `s3://models/trained/${digest}/`;
    const modelStoreS3 = { uri: "s3://models/trained/", access: { credentialsSecret: "store" } };
    const settings = { runtimeImage: "rt:1", trainerImage: "tr:1", imagePullPolicy: "Never" };
    const v = { ...variant, version: { digest, uri } };
    const envOf = (s: typeof settings & { modelStoreS3?: typeof modelStoreS3 }) =>
      buildServingDeployment(model, v, s).spec?.template.spec?.initContainers?.[0]?.env ?? [];
    expect(envOf({ ...settings, modelStoreS3 })).toContainEqual({
      name: "AWS_ACCESS_KEY_ID",
      valueFrom: { secretKeyRef: { name: "store", key: "AWS_ACCESS_KEY_ID" } },
    });
    // Outside the store (another bucket or prefix), its keys are not handed out.
    const elsewhere = { ...modelStoreS3, uri: "s3://models/other/" };
    expect(envOf({ ...settings, modelStoreS3: elsewhere })).toEqual([
      { name: "HOME", value: "/tmp" },
    ]);
  });

  it("passes the threshold override and explanations switch", () => {
    expect(c?.env).toContainEqual({ name: "CHURN_DECISION_THRESHOLD", value: "0.4" });
    expect(c?.env).toContainEqual({ name: "CHURN_EXPLANATIONS_ENABLED", value: "false" });
  });
  it("serves gRPC on a named port unless spec.grpc is off, and its Services expose it", () => {
    expect(c?.ports).toEqual([
      { name: "http", containerPort: 8080, protocol: "TCP" },
      { name: "grpc", containerPort: 8081, protocol: "TCP" },
    ]);
    expect(c?.env).toContainEqual({ name: "CHURN_GRPC_PORT", value: "8081" });
    for (const svc of [buildServingService(model), buildServingService(model, true)]) {
      expect(svc.spec?.ports).toContainEqual({
        name: "grpc",
        port: 8081,
        targetPort: "grpc",
        protocol: "TCP",
        appProtocol: "kubernetes.io/h2c",
      });
    }
    const off = churnModelFixture({ grpc: { enabled: false } });
    const plain = buildServingDeployment(off, variant, {
      runtimeImage: "churn-operator/runtime:1",
      imagePullPolicy: "Never",
    }).spec?.template.spec?.containers[0];
    expect(plain?.ports?.map((p) => p.name)).toEqual(["http"]);
    expect(plain?.env?.some((e) => e.name === "CHURN_GRPC_PORT")).toBe(false);
    expect(buildServingService(off).spec?.ports?.map((p) => p.name)).toEqual(["http"]);
  });
  it("has probes, hardening, full-capacity rollouts and an owner", () => {
    expect(c?.readinessProbe?.httpGet?.path).toBe("/readyz");
    expect(c?.livenessProbe?.httpGet?.path).toBe("/healthz");
    expect(c?.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(pod?.automountServiceAccountToken).toBe(false);
    expect(d.spec?.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
    expect(d.spec?.replicas).toBe(2);
    expect(d.metadata?.ownerReferences?.[0]?.uid).toBe("uid-2");
  });
  it("selects its own version; the Service selects every version, or the router", () => {
    const svc = buildServingService(model);
    expect(d.spec?.selector.matchLabels).toMatchObject({ "churn.mlops.dev/version": "ffffffffff" });
    expect(svc.spec?.selector).not.toHaveProperty("churn.mlops.dev/version");
    for (const [k, v] of Object.entries(svc.spec?.selector ?? {})) {
      expect(d.spec?.template.metadata?.labels?.[k]).toBe(v);
    }
    expect(svc.metadata?.name).toBe("bank");
    const routed = buildServingService(model, true);
    expect(routed.spec?.selector).toEqual({
      "churn.mlops.dev/churn-model": "bank",
      "app.kubernetes.io/component": "router",
    });
    for (const [k, v] of Object.entries(routed.spec?.selector ?? {})) {
      expect(d.spec?.template.metadata?.labels?.[k] === v).toBe(
        k !== "app.kubernetes.io/component",
      );
    }
  });
  it("adds the test-fault environment only when the variant carries it", () => {
    expect(c?.env?.some((e) => e.name === "CHURN_TEST_FAULT")).toBe(false);
    const faulty = buildServingDeployment(
      model,
      { ...variant, extraEnv: [{ name: "CHURN_TEST_FAULT", value: "error-rate=1" }] },
      { runtimeImage: "r", imagePullPolicy: "Never" },
    );
    expect(faulty.spec?.template.spec?.containers[0]?.env).toContainEqual({
      name: "CHURN_TEST_FAULT",
      value: "error-rate=1",
    });
  });
});
