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
  it("passes the threshold override and explanations switch", () => {
    expect(c?.env).toContainEqual({ name: "CHURN_DECISION_THRESHOLD", value: "0.4" });
    expect(c?.env).toContainEqual({ name: "CHURN_EXPLANATIONS_ENABLED", value: "false" });
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
