import type { V1Job } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { containerLog, useTestNamespace, waitFor } from "../testing/index.js";

function shellJob(name: string, script: string, backoffLimit: number): V1Job {
  return {
    metadata: { name },
    spec: {
      backoffLimit,
      template: {
        spec: {
          restartPolicy: "Never",
          containers: [{ name: "main", image: "busybox:1.36", command: ["sh", "-c", script] }],
        },
      },
    },
  };
}

describe("a Job", () => {
  const { cluster, ns } = useTestNamespace("jobs");

  const condition = async (name: string, type: string) => {
    const job = await cluster.batch.readNamespacedJob({ name, namespace: ns() });
    return job.status?.conditions?.find((c) => c.type === type && c.status === "True")
      ? job
      : undefined;
  };

  it("whose command exits 0 becomes Complete", async () => {
    await cluster.batch.createNamespacedJob({
      namespace: ns(),
      body: shellJob("ok", "echo done", 2),
    });
    const job = await waitFor("Job ok Complete", () => condition("ok", "Complete"));
    expect(job.status?.succeeded).toBe(1);
    const pods = await cluster.core.listNamespacedPod({
      namespace: ns(),
      labelSelector: "job-name=ok",
    });
    const pod = pods.items[0];
    expect(pod?.status?.phase).toBe("Succeeded");
    const terminated = pod?.status?.containerStatuses?.[0]?.state?.terminated;
    expect(terminated?.exitCode).toBe(0);
    expect(terminated?.reason).toBe("Completed");
    expect(await containerLog(cluster, ns(), pod?.metadata?.name ?? "", "main")).toBe("done\n");
  });

  it("whose command exits 1 becomes Failed after its backoff limit, with the termination message", async () => {
    const script = "echo 'bad input: column Age missing' > /dev/termination-log; exit 1";
    await cluster.batch.createNamespacedJob({
      namespace: ns(),
      body: shellJob("broken", script, 1),
    });
    const job = await waitFor("Job broken Failed", () => condition("broken", "Failed"), {
      timeoutMs: 180_000,
    });
    const failed = job.status?.conditions?.find((c) => c.type === "Failed");
    expect(failed?.reason).toBe("BackoffLimitExceeded");
    expect(job.status?.failed).toBe(2);

    const pods = await cluster.core.listNamespacedPod({
      namespace: ns(),
      labelSelector: "job-name=broken",
    });
    expect(pods.items).toHaveLength(2);
    for (const pod of pods.items) {
      expect(pod.status?.phase).toBe("Failed");
      const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
      expect(terminated?.exitCode).toBe(1);
      expect(terminated?.reason).toBe("Error");
      expect(terminated?.message?.trim()).toBe("bad input: column Age missing");
    }
  });
});
