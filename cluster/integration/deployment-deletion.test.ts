import { describe, expect, it } from "vitest";
import {
  containerProcessId,
  httpGet,
  processGone,
  useTestNamespace,
  waitFor,
} from "../testing/index.js";
import { httpServerDeployment } from "./http-server.js";

describe("deleting a Deployment", () => {
  const { cluster, ns } = useTestNamespace("deletion");

  it("stops its pods' processes", async () => {
    await cluster.apps.createNamespacedDeployment({
      namespace: ns(),
      body: httpServerDeployment("web", 2),
    });
    const pods = await waitFor("2 Ready pods", async () => {
      const list = await cluster.core.listNamespacedPod({
        namespace: ns(),
        labelSelector: "app=web",
      });
      const ready = list.items.filter((p) =>
        p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
      );
      return ready.length === 2 ? ready : undefined;
    });
    const ips = pods.map((p) => p.status?.podIP ?? "");
    for (const ip of ips) expect((await httpGet(`http://${ip}:8080/`)).status).toBe(200);
    const pids = pods
      .map((p) => containerProcessId(cluster, ns(), p.metadata?.name ?? "", "server"))
      .filter((pid): pid is number => pid !== null);

    await cluster.apps.deleteNamespacedDeployment({
      name: "web",
      namespace: ns(),
      propagationPolicy: "Foreground",
    });
    await waitFor("the Deployment and its pods to be gone", async () => {
      const list = await cluster.core.listNamespacedPod({
        namespace: ns(),
        labelSelector: "app=web",
      });
      const deps = await cluster.apps.listNamespacedDeployment({ namespace: ns() });
      return list.items.length === 0 && deps.items.length === 0;
    });

    for (const ip of ips) {
      await expect(httpGet(`http://${ip}:8080/`, 1000)).rejects.toThrow();
    }
    if (cluster.flavour === "process") {
      expect(pids).toHaveLength(2);
      for (const pid of pids) expect(processGone(pid)).toBe(true);
    }
  });
});
