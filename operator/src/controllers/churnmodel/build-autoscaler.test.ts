import { describe, expect, it } from "vitest";
import { churnModelFixture } from "../../../test-support/churn-model-fixture.js";
import { autoscalingOf, type ResolvedAutoscaling } from "../../api/defaults.js";
import { buildAutoscaler, REQUESTS_PER_SECOND_METRIC } from "./build-autoscaler.js";
import { buildServingDeployment } from "./build-serving-deployment.js";
import type { Variant } from "./desired-variants.js";

const model = churnModelFixture();
const version = { digest: "c".repeat(64), uri: "pvc://models/c" };
const resolved = (a: Parameters<typeof autoscalingOf>[0]): ResolvedAutoscaling => {
  const r = autoscalingOf(a);
  if (!r) throw new Error("autoscaling did not resolve");
  return r;
};
const canary: Variant = {
  name: "canary",
  version,
  replicas: 2,
  autoscale: { minReplicas: 1, maxReplicas: 6 },
};

describe("buildAutoscaler", () => {
  it("scales the variant's own Deployment between its bounds on CPU by default", () => {
    const hpa = buildAutoscaler(model, canary, resolved({ minReplicas: 2, maxReplicas: 6 }));
    expect(hpa.metadata?.name).toBe("bank-cccccccccc");
    expect(hpa.metadata?.ownerReferences?.[0]).toMatchObject({ uid: "u1", controller: true });
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "bank-cccccccccc" },
      minReplicas: 1,
      maxReplicas: 6,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: expect.any(Object) } }],
    });
    expect(hpa.spec?.metrics?.[0]?.resource?.target).toEqual({
      type: "Utilization",
      averageUtilization: 70,
    });
  });
  it("targets requests per second per pod alone when only that is asked, as a quantity", () => {
    const a = resolved({ minReplicas: 1, maxReplicas: 4, targetRequestsPerSecondPerPod: 2.5 });
    const hpa = buildAutoscaler(model, canary, a);
    expect(hpa.spec?.metrics).toEqual([
      {
        type: "Pods",
        pods: {
          metric: { name: REQUESTS_PER_SECOND_METRIC },
          target: { type: "AverageValue", averageValue: "2500m" },
        },
      },
    ]);
  });
  it("uses both targets when both are given (the HPA takes the larger proposal)", () => {
    const a = resolved({
      minReplicas: 1,
      maxReplicas: 4,
      targetCPUUtilizationPercent: 50,
      targetRequestsPerSecondPerPod: 200,
    });
    const hpa = buildAutoscaler(model, canary, a);
    expect(hpa.spec?.metrics?.map((m) => m.type)).toEqual(["Resource", "Pods"]);
    expect(hpa.spec?.metrics?.[1]?.pods?.target.averageValue).toBe("200");
  });
});

describe("autoscalingOf", () => {
  it("is undefined without spec.autoscaling and never lets the floor pass the ceiling", () => {
    expect(autoscalingOf(undefined)).toBeUndefined();
    expect(autoscalingOf({ minReplicas: 9, maxReplicas: 3 })).toMatchObject({
      minReplicas: 3,
      maxReplicas: 3,
    });
  });
});

describe("an autoscaled Deployment", () => {
  it("leaves spec.replicas to its autoscaler", () => {
    const d = buildServingDeployment(model, canary, {
      runtimeImage: "r",
      imagePullPolicy: "Never",
    });
    expect(d.spec).not.toHaveProperty("replicas");
    const fixed = buildServingDeployment(
      model,
      { ...canary, autoscale: undefined },
      { runtimeImage: "r", imagePullPolicy: "Never" },
    );
    expect(fixed.spec?.replicas).toBe(2);
  });
});
