import type { V1Probe } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { useTestNamespace, waitFor } from "../testing/index.js";
import { NODE_IMAGE } from "./http-server.js";

describe("readiness probes", () => {
  const { cluster, ns } = useTestNamespace("readiness");

  const createProbed = (name: string, command: string[], image: string, probe: V1Probe) =>
    cluster.core.createNamespacedPod({
      namespace: ns(),
      body: {
        metadata: { name, labels: { probe: "yes" } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            { name: "main", image, command, readinessProbe: { periodSeconds: 1, ...probe } },
          ],
        },
      },
    });

  /** Waits until the kubelet has reported at least `n` failed readiness probes for a pod. */
  const failedProbes = (name: string, n: number) =>
    waitFor(`${n} failed readiness probes of ${name}`, async () => {
      const events = await cluster.core.listNamespacedEvent({
        namespace: ns(),
        fieldSelector: `involvedObject.name=${name}`,
      });
      const count = events.items
        .filter((e) => e.reason === "Unhealthy" && /Readiness probe failed/.test(e.message ?? ""))
        .reduce((sum, e) => sum + (e.count ?? 1) + (e.series?.count ?? 0), 0);
      return count >= n;
    });

  it("keep a pod whose exec probe fails from ever becoming Ready, while a passing one is Ready", async () => {
    const sleeper = ["sh", "-c", "trap 'exit 0' TERM; touch /tmp/ok; while true; do sleep 1; done"];
    await createProbed("never-ready", sleeper, "busybox:1.36", {
      exec: { command: ["cat", "/tmp/never-created"] },
    });
    await createProbed("ready", sleeper, "busybox:1.36", { exec: { command: ["cat", "/tmp/ok"] } });

    await waitFor("pod ready to be Ready", async () => {
      const p = await cluster.core.readNamespacedPod({ name: "ready", namespace: ns() });
      return p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    });
    await failedProbes("never-ready", 3);
    const pod = await cluster.core.readNamespacedPod({ name: "never-ready", namespace: ns() });
    expect(pod.status?.phase).toBe("Running");
    const readyCond = pod.status?.conditions?.find((c) => c.type === "Ready");
    expect(readyCond?.status).toBe("False");
    expect(readyCond?.reason).toBe("ContainersNotReady");
    expect(readyCond?.lastTransitionTime).toBeDefined();
    expect(pod.status?.containerStatuses?.[0]?.ready).toBe(false);
    expect(pod.status?.containerStatuses?.[0]?.state?.running).toBeDefined();
  });

  it("keep a pod whose HTTP probe answers 500 out of its Service's ready endpoints", async () => {
    const script =
      "const s = require('http').createServer((q, r) => { r.statusCode = 500; r.end('no'); }).listen(8080); process.on('SIGTERM', () => process.exit(0));";
    await cluster.core.createNamespacedService({
      namespace: ns(),
      body: {
        metadata: { name: "failing" },
        spec: { selector: { app: "failing" }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    });
    await cluster.core.createNamespacedPod({
      namespace: ns(),
      body: {
        metadata: { name: "http-500", labels: { app: "failing" } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: "main",
              image: NODE_IMAGE,
              command: ["node", "-e", script],
              ports: [{ containerPort: 8080 }],
              readinessProbe: { httpGet: { path: "/healthz", port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      },
    });
    await failedProbes("http-500", 3);
    const pod = await cluster.core.readNamespacedPod({ name: "http-500", namespace: ns() });
    expect(pod.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("False");
    const slice = await waitFor("an EndpointSlice listing the pod", async () => {
      const slices = await cluster.discovery.listNamespacedEndpointSlice({
        namespace: ns(),
        labelSelector: "kubernetes.io/service-name=failing",
      });
      return slices.items.find((s) => (s.endpoints ?? []).length > 0);
    });
    const endpoint = slice.endpoints.find((e) => e.addresses.includes(pod.status?.podIP ?? ""));
    expect(endpoint?.conditions?.ready).toBe(false);
  });
});
