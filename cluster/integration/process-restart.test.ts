import { describe, expect, it } from "vitest";
import { httpGet, killContainerProcess, useTestNamespace, waitFor } from "../testing/index.js";
import { httpServerDeployment } from "./http-server.js";

describe("a killed container process", () => {
  const { cluster, ns } = useTestNamespace("restart");

  it("is restarted (or its pod replaced) and the Deployment serves again", async () => {
    await cluster.apps.createNamespacedDeployment({
      namespace: ns(),
      body: httpServerDeployment("web", 1),
    });
    const ready = (p: { status?: { conditions?: { type: string; status: string }[] } }) =>
      p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    const victim = await waitFor("one Ready web pod", async () => {
      const pods = await cluster.core.listNamespacedPod({
        namespace: ns(),
        labelSelector: "app=web",
      });
      return pods.items.find(ready);
    });
    const name = victim.metadata?.name ?? "";

    await killContainerProcess(cluster, ns(), name, "server");

    const recovered = await waitFor("the server restarted or replaced, and Ready", async () => {
      const pods = await cluster.core.listNamespacedPod({
        namespace: ns(),
        labelSelector: "app=web",
      });
      return pods.items.find(
        (p) =>
          ready(p) &&
          (p.metadata?.name !== name || (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1),
      );
    });
    if (recovered.metadata?.name === name) {
      const status = recovered.status?.containerStatuses?.[0];
      expect(status?.restartCount).toBeGreaterThanOrEqual(1);
      // SIGKILL: 128 + 9.
      expect(status?.lastState?.terminated?.exitCode).toBe(137);
    }
    const res = await waitFor("the recovered pod to answer HTTP", async () => {
      const r = await httpGet(`http://${recovered.status?.podIP}:8080/`);
      return r.status === 200 ? r : undefined;
    });
    expect(JSON.parse(res.body).pod).toBe(recovered.metadata?.name);
    await waitFor("Deployment web Available again", async () => {
      const d = await cluster.apps.readNamespacedDeployment({ name: "web", namespace: ns() });
      return (
        d.status?.conditions?.some((c) => c.type === "Available" && c.status === "True") &&
        d.status?.readyReplicas === 1
      );
    });
  });

  it("of a failing liveness probe is killed and restarted", async () => {
    await cluster.core.createNamespacedPod({
      namespace: ns(),
      body: {
        metadata: { name: "unhealthy" },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [
            {
              name: "main",
              image: "busybox:1.36",
              command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
              livenessProbe: {
                exec: { command: ["cat", "/tmp/does-not-exist"] },
                periodSeconds: 1,
                failureThreshold: 2,
              },
            },
          ],
        },
      },
    });
    const status = await waitFor("a restart after liveness failures", async () => {
      const p = await cluster.core.readNamespacedPod({ name: "unhealthy", namespace: ns() });
      const s = p.status?.containerStatuses?.[0];
      return (s?.restartCount ?? 0) >= 1 ? s : undefined;
    });
    expect(status.lastState?.terminated).toBeDefined();
    const events = await cluster.core.listNamespacedEvent({
      namespace: ns(),
      fieldSelector: "involvedObject.name=unhealthy",
    });
    expect(
      events.items.some(
        (e) => e.reason === "Unhealthy" && /Liveness probe failed/.test(e.message ?? ""),
      ),
    ).toBe(true);
  });
});
