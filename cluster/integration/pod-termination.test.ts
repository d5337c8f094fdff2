import { rmSync } from "node:fs";
import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, describe, expect, it } from "vitest";
import { useTestNamespace, waitFor } from "../testing/index.js";

describe("deleting a pod", () => {
  const { cluster, ns } = useTestNamespace("termination");
  // A directory on the node both pods mount: how the deleted pod leaves word behind.
  const shared = `/tmp/churn-termination-${process.pid}`;

  afterAll(() => {
    if (cluster.flavour === "process") rmSync(shared, { recursive: true, force: true });
  });

  const withShared = (name: string, script: string, grace: number, ready?: string): V1Pod => ({
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: grace,
      restartPolicy: "Never",
      volumes: [{ name: "shared", hostPath: { path: shared, type: "DirectoryOrCreate" } }],
      containers: [
        {
          name: "main",
          image: "busybox:1.36",
          command: ["sh", "-c", script],
          volumeMounts: [{ name: "shared", mountPath: "/shared" }],
          // Ready once `ready` exists: the script is past its set-up, so a signal finds it armed.
          ...(ready && {
            readinessProbe: { exec: { command: ["cat", ready] }, periodSeconds: 1 },
          }),
        },
      ],
    },
  });
  const running = (name: string) =>
    waitFor(`pod ${name} running`, async () => {
      const p = await cluster.core.readNamespacedPod({ name, namespace: ns() });
      return p.status?.containerStatuses?.[0]?.state?.running ? p : undefined;
    });
  const ready = (name: string) =>
    waitFor(`pod ${name} Ready`, async () => {
      const p = await cluster.core.readNamespacedPod({ name, namespace: ns() });
      return p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    });
  const gone = (name: string) =>
    waitFor(`pod ${name} to be deleted`, async () => {
      try {
        await cluster.core.readNamespacedPod({ name, namespace: ns() });
        return false;
      } catch (err) {
        return (err as { code?: number }).code === 404;
      }
    });

  it("sends SIGTERM to its containers before removing it", async () => {
    const script =
      "trap 'echo terminated > /shared/marker; exit 0' TERM; echo started > /shared/marker; while true; do sleep 1; done";
    await cluster.core.createNamespacedPod({
      namespace: ns(),
      body: withShared("graceful", script, 30, "/shared/marker"),
    });
    // The marker is written after the trap is set: deleting earlier could find no handler yet.
    await ready("graceful");
    await cluster.core.deleteNamespacedPod({ name: "graceful", namespace: ns() });
    await gone("graceful");

    await cluster.core.createNamespacedPod({
      namespace: ns(),
      body: withShared("reader", 'echo "MARKER=$(cat /shared/marker)" > /dev/termination-log', 1),
    });
    const reader = await waitFor("the reader to finish", async () => {
      const p = await cluster.core.readNamespacedPod({ name: "reader", namespace: ns() });
      return p.status?.phase === "Succeeded" ? p : undefined;
    });
    expect(reader.status?.containerStatuses?.[0]?.state?.terminated?.message?.trim()).toBe(
      "MARKER=terminated",
    );
  });

  it("keeps probing readiness while a container drains: the pod turns unready before it goes", async () => {
    // Ready while /shared/serving exists; on SIGTERM the script removes it and drains for 10 s.
    const script =
      "trap 'rm -f /shared/serving; sleep 10; exit 0' TERM; touch /shared/serving; while true; do sleep 1; done";
    await cluster.core.createNamespacedPod({
      namespace: ns(),
      body: withShared("draining", script, 30, "/shared/serving"),
    });
    await ready("draining");
    await cluster.core.deleteNamespacedPod({ name: "draining", namespace: ns() });
    const unready = await waitFor("the draining pod to turn unready", async () => {
      const p = await cluster.core.readNamespacedPod({ name: "draining", namespace: ns() });
      return p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "False")
        ? p
        : undefined;
    });
    // Still there and still running: the probe, not the exit, took it out of Ready.
    expect(unready.metadata?.deletionTimestamp).toBeDefined();
    expect(unready.status?.containerStatuses?.[0]?.state?.running).toBeDefined();
    await gone("draining");
  });

  it("kills containers that ignore SIGTERM once the grace period is over", async () => {
    const script = "trap '' TERM; while true; do sleep 1; done";
    await cluster.core.createNamespacedPod({
      namespace: ns(),
      body: withShared("stubborn", script, 2),
    });
    await running("stubborn");
    await cluster.core.deleteNamespacedPod({ name: "stubborn", namespace: ns() });
    const terminating = await cluster.core.readNamespacedPod({ name: "stubborn", namespace: ns() });
    expect(terminating.metadata?.deletionTimestamp).toBeDefined();
    expect(terminating.metadata?.deletionGracePeriodSeconds).toBe(2);
    await gone("stubborn");
  });
});

describe("a pod whose image the node cannot provide", () => {
  const { cluster, ns } = useTestNamespace("noimage");

  it("stays Pending with an image error naming the problem", async () => {
    await cluster.core.createNamespacedPod({
      namespace: ns(),
      body: {
        metadata: { name: "missing" },
        spec: {
          containers: [
            {
              name: "main",
              image: "churn-operator/no-such-image:never",
              imagePullPolicy: "IfNotPresent",
            },
          ],
        },
      },
    });
    const waiting = await waitFor("an image error", async () => {
      const p = await cluster.core.readNamespacedPod({ name: "missing", namespace: ns() });
      const w = p.status?.containerStatuses?.[0]?.state?.waiting;
      return w && /ErrImage|ImagePull/.test(w.reason ?? "") ? { pod: p, w } : undefined;
    });
    expect(waiting.pod.status?.phase).toBe("Pending");
    expect(waiting.w.message).toContain("churn-operator/no-such-image");
  });
});
