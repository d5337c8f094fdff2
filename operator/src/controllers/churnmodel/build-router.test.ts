import { describe, expect, it } from "vitest";
import { churnModelFixture } from "../../../test-support/churn-model-fixture.js";
import {
  buildRouterDeployment,
  buildRouterRole,
  buildRouterRoleBinding,
  buildTrafficConfigMap,
  buildVersionPodsService,
  buildVersionService,
  buildVersionServices,
  routerReplicas,
  TRAFFIC_KEY,
  trafficConfig,
} from "./build-router.js";

const model = churnModelFixture();
const a = { digest: "a".repeat(64), uri: "pvc://m/a" };
const b = { digest: "b".repeat(64), uri: "pvc://m/b" };

describe("router objects", () => {
  it("writes the weights the router reads, each version's Service URL and its pods' HTTP and gRPC name", () => {
    const cfg = trafficConfig(model, a, b, 10, 0);
    expect(cfg).toEqual({
      model: "bank",
      stable: {
        digest: a.digest,
        url: "http://bank-aaaaaaaaaa.team-a.svc:8080",
        httpTarget: "dns:///bank-aaaaaaaaaa-pods.team-a.svc:8080",
        grpcTarget: "dns:///bank-aaaaaaaaaa-pods.team-a.svc:8081",
      },
      canary: {
        digest: b.digest,
        url: "http://bank-bbbbbbbbbb.team-a.svc:8080",
        httpTarget: "dns:///bank-bbbbbbbbbb-pods.team-a.svc:8080",
        grpcTarget: "dns:///bank-bbbbbbbbbb-pods.team-a.svc:8081",
        weight: 10,
        mirrorPercent: 0,
      },
      stickyHeader: null,
    });
    expect(trafficConfig(model, a, undefined, 0, 0).canary).toBeNull();
    const cm = buildTrafficConfigMap(model, cfg);
    expect(cm.metadata?.name).toBe("bank-traffic");
    expect(JSON.parse(cm.data?.[TRAFFIC_KEY] ?? "")).toEqual(cfg);
    // With gRPC off the router has no gRPC endpoint to send to; HTTP still goes to the pods.
    const off = trafficConfig(churnModelFixture({ grpc: { enabled: false } }), a, b, 10, 0);
    expect(off.stable).not.toHaveProperty("grpcTarget");
    expect(off.canary).not.toHaveProperty("grpcTarget");
    expect(off.canary?.httpTarget).toBe("dns:///bank-bbbbbbbbbb-pods.team-a.svc:8080");
  });

  it("lets the router read exactly its own ConfigMap and nothing else", () => {
    const role = buildRouterRole(model);
    expect(role.rules).toEqual([
      {
        apiGroups: [""],
        resources: ["configmaps"],
        resourceNames: ["bank-traffic"],
        verbs: ["get", "list", "watch"],
      },
    ]);
    const rb = buildRouterRoleBinding(model);
    expect(rb.roleRef.name).toBe("bank-router");
    expect(rb.subjects).toEqual([
      { kind: "ServiceAccount", name: "bank-router", namespace: "team-a" },
    ]);
  });

  it("runs the runtime image in route mode with the ConfigMap to watch", () => {
    const d = buildRouterDeployment(model, { runtimeImage: "rt:1", imagePullPolicy: "Never" });
    const c = d.spec?.template.spec?.containers[0];
    expect(c?.args).toEqual([
      "route",
      "--namespace",
      "team-a",
      "--traffic-config-map",
      "bank-traffic",
      "--port",
      "8080",
    ]);
    expect(d.spec?.template.spec?.serviceAccountName).toBe("bank-router");
    // Its gRPC front, on the same port as the serving pods'.
    expect(c?.env).toContainEqual({ name: "CHURN_GRPC_PORT", value: "8081" });
    expect(c?.ports).toContainEqual({ name: "grpc", containerPort: 8081, protocol: "TCP" });
    expect(d.spec?.replicas).toBe(2);
    expect([0, 1, 2, 10].map(routerReplicas)).toEqual([0, 1, 2, 2]);
  });

  it("puts a Service in front of each version's pods only", () => {
    const svc = buildVersionService(model, b.digest);
    expect(svc.metadata?.name).toBe("bank-bbbbbbbbbb");
    expect(svc.spec?.selector).toEqual({
      "churn.mlops.dev/churn-model": "bank",
      "app.kubernetes.io/component": "serving",
      "churn.mlops.dev/version": "bbbbbbbbbb",
    });
    expect(svc.spec?.ports?.map((p) => [p.name, p.port, p.targetPort, p.appProtocol])).toEqual([
      ["http", 8080, "http", undefined],
      ["grpc", 8081, "grpc", "kubernetes.io/h2c"],
    ]);
  });

  it("gives each version a headless Service answering its ready pods, the router's HTTP and gRPC name", () => {
    const svc = buildVersionPodsService(model, b.digest);
    // The name the traffic file's HTTP and gRPC targets resolve, on the ports it publishes.
    const canary = trafficConfig(model, a, b, 10, 0).canary;
    expect(canary?.httpTarget).toBe(`dns:///${svc.metadata?.name}.team-a.svc:8080`);
    expect(canary?.grpcTarget).toBe(`dns:///${svc.metadata?.name}.team-a.svc:8081`);
    expect(svc.metadata?.name).toBe("bank-bbbbbbbbbb-pods");
    expect(svc.metadata?.namespace).toBe("team-a");
    // Garbage-collected with the ChurnModel, and found by the prune's label and owner checks.
    expect(svc.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: "ChurnModel", name: "bank", controller: true }),
    ]);
    expect(svc.metadata?.labels?.["churn.mlops.dev/churn-model"]).toBe("bank");
    expect(svc.spec?.clusterIP).toBe("None");
    expect(svc.spec?.publishNotReadyAddresses).toBe(false);
    // The same pods as the version's ClusterIP Service, none of another version's.
    expect(svc.spec?.selector).toEqual(buildVersionService(model, b.digest).spec?.selector);
    expect(svc.spec?.selector).not.toEqual(buildVersionPodsService(model, a.digest).spec?.selector);
    expect(svc.spec?.ports?.find((p) => p.name === "http")?.port).toBe(8080);
    expect(svc.spec?.ports?.find((p) => p.name === "grpc")?.port).toBe(8081);
    // Applied (and kept by the prune) in router mode whether gRPC is on or off; with it off,
    // it publishes HTTP alone.
    const names = (m: typeof model) =>
      buildVersionServices(m, b.digest).map((s) => s.metadata?.name);
    const grpcOff = churnModelFixture({ grpc: { enabled: false } });
    expect(names(model)).toEqual(["bank-bbbbbbbbbb", "bank-bbbbbbbbbb-pods"]);
    expect(names(grpcOff)).toEqual(["bank-bbbbbbbbbb", "bank-bbbbbbbbbb-pods"]);
    expect(buildVersionPodsService(grpcOff, b.digest).spec?.ports?.map((p) => p.name)).toEqual([
      "http",
    ]);
    // A long model name still gives a DNS label, distinct from the version's ClusterIP Service.
    const long = churnModelFixture({}, { name: "m".repeat(60) });
    const name = buildVersionPodsService(long, b.digest).metadata?.name ?? "";
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(name).not.toBe(buildVersionService(long, b.digest).metadata?.name);
  });
});
