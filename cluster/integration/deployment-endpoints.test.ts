import { describe, expect, it } from "vitest";
import { httpGet, useTestNamespace, waitFor } from "../testing/index.js";
import { httpServerDeployment, httpServerService, NODE_IMAGE } from "./http-server.js";

describe("a Deployment of an HTTP server", () => {
  const { cluster, ns } = useTestNamespace("endpoints");

  it("becomes Available and its EndpointSlice lists ready pod IPs that answer HTTP", async () => {
    await cluster.apps.createNamespacedDeployment({
      namespace: ns(),
      body: httpServerDeployment("web", 2),
    });
    await cluster.core.createNamespacedService({ namespace: ns(), body: httpServerService("web") });

    await waitFor("Deployment web Available with 2 ready replicas", async () => {
      const d = await cluster.apps.readNamespacedDeployment({ name: "web", namespace: ns() });
      const available = d.status?.conditions?.find((c) => c.type === "Available");
      return available?.status === "True" && d.status?.readyReplicas === 2;
    });

    const pods = await cluster.core.listNamespacedPod({
      namespace: ns(),
      labelSelector: "app=web",
    });
    const podIps = pods.items.map((p) => p.status?.podIP).sort();
    expect(podIps).toHaveLength(2);
    for (const ip of podIps) expect(ip).not.toMatch(/^127\./);

    const readyAddresses = await waitFor("EndpointSlice with both pod IPs ready", async () => {
      const slices = await cluster.discovery.listNamespacedEndpointSlice({
        namespace: ns(),
        labelSelector: "kubernetes.io/service-name=web",
      });
      const ready = slices.items
        .flatMap((s) => s.endpoints)
        .filter((e) => e.conditions?.ready)
        .flatMap((e) => e.addresses)
        .sort();
      return ready.length === 2 ? ready : undefined;
    });
    expect(readyAddresses).toEqual(podIps);

    const names = pods.items.map((p) => p.metadata?.name).sort();
    const answered = [];
    for (const ip of readyAddresses) {
      const res = await httpGet(`http://${ip}:8080/`);
      expect(res.status).toBe(200);
      answered.push(JSON.parse(res.body).pod);
    }
    expect(answered.sort()).toEqual(names);
  });

  it("is reachable through its Service's ClusterIP", async () => {
    const svc = await cluster.core.readNamespacedService({ name: "web", namespace: ns() });
    const clusterIp = svc.spec?.clusterIP;
    expect(clusterIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const res = await waitFor("the ClusterIP to answer", async () => {
      const r = await httpGet(`http://${clusterIp}:80/`);
      return r.status === 200 ? r : undefined;
    });
    const pods = await cluster.core.listNamespacedPod({
      namespace: ns(),
      labelSelector: "app=web",
    });
    expect(pods.items.map((p) => p.metadata?.name)).toContain(JSON.parse(res.body).pod);
  });

  it("is reachable from another pod by its DNS name", async () => {
    const script = [
      "const get = (u) => fetch(u).then((r) => r.json()).then((b) => b.pod);",
      `Promise.all([get('http://web/'), get('http://web.${ns()}.svc.cluster.local/')])`,
      ".then((pods) => require('fs').writeFileSync('/dev/termination-log', pods.join(',')))",
      ".catch((e) => { require('fs').writeFileSync('/dev/termination-log', 'ERROR ' + e.cause?.code + ' ' + e.message); process.exit(1); });",
    ].join(" ");
    await cluster.core.createNamespacedPod({
      namespace: ns(),
      body: {
        metadata: { name: "client" },
        spec: {
          restartPolicy: "Never",
          containers: [{ name: "main", image: NODE_IMAGE, command: ["node", "-e", script] }],
        },
      },
    });
    const pod = await waitFor("the client pod to finish", async () => {
      const p = await cluster.core.readNamespacedPod({ name: "client", namespace: ns() });
      return ["Succeeded", "Failed"].includes(p.status?.phase ?? "") ? p : undefined;
    });
    const message = pod.status?.containerStatuses?.[0]?.state?.terminated?.message ?? "";
    expect(pod.status?.phase, message).toBe("Succeeded");
    const pods = await cluster.core.listNamespacedPod({
      namespace: ns(),
      labelSelector: "app=web",
    });
    const names = pods.items.map((p) => p.metadata?.name);
    for (const answered of message.split(",")) expect(names).toContain(answered);
  });
});
