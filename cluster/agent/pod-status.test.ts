import { describe, expect, it } from "vitest";
import { type ContainerRecord, type PodRuntimeView, podPhase, podStatus } from "./pod-status.js";

const t0 = new Date("2026-01-01T00:00:00Z");
const running: ContainerRecord["state"] = { running: { startedAt: t0 } };
const exited = (exitCode: number): ContainerRecord["state"] => ({
  terminated: { exitCode, startedAt: t0, finishedAt: t0 },
});
const waiting: ContainerRecord["state"] = { waiting: { reason: "ContainerCreating" } };

function container(
  state: ContainerRecord["state"],
  extra: Partial<ContainerRecord> = {},
): ContainerRecord {
  return {
    name: "c",
    image: "busybox",
    restartCount: 0,
    state,
    ready: false,
    started: true,
    ...extra,
  };
}

function view(extra: Partial<PodRuntimeView>): PodRuntimeView {
  return {
    sandboxReady: true,
    podIp: "10.244.1.2",
    hostIp: "10.244.0.1",
    startTime: t0,
    restartPolicy: "Always",
    initContainers: [],
    containers: [container(running)],
    deleting: false,
    ...extra,
  };
}

describe("podPhase", () => {
  it.each([
    ["running container", view({}), "Running"],
    ["not started yet", view({ sandboxReady: false, containers: [container(waiting)] }), "Pending"],
    [
      "Never, exit 0",
      view({ restartPolicy: "Never", containers: [container(exited(0))] }),
      "Succeeded",
    ],
    [
      "Never, exit 1",
      view({ restartPolicy: "Never", containers: [container(exited(1))] }),
      "Failed",
    ],
    ["Always, exited: will restart", view({ containers: [container(exited(0))] }), "Running"],
    [
      "OnFailure, exit 1: will restart",
      view({ restartPolicy: "OnFailure", containers: [container(exited(1))] }),
      "Running",
    ],
    [
      "OnFailure, exit 0",
      view({ restartPolicy: "OnFailure", containers: [container(exited(0))] }),
      "Succeeded",
    ],
    [
      "crash-looping (waiting after a run)",
      view({
        containers: [
          container({ waiting: { reason: "CrashLoopBackOff" } }, { lastState: exited(1) }),
        ],
      }),
      "Running",
    ],
    [
      "Always, deleted after exit 0",
      view({ deleting: true, containers: [container(exited(0))] }),
      "Succeeded",
    ],
    [
      "Always, deleted after SIGKILL",
      view({ deleting: true, containers: [container(exited(137))] }),
      "Failed",
    ],
    [
      "init container still running",
      view({ initContainers: [container(running)], containers: [container(waiting)] }),
      "Pending",
    ],
    [
      "init container failed, Never",
      view({
        restartPolicy: "Never",
        initContainers: [container(exited(2))],
        containers: [container(waiting)],
      }),
      "Failed",
    ],
    [
      "init container failed, OnFailure: retried",
      view({
        restartPolicy: "OnFailure",
        initContainers: [container(exited(2))],
        containers: [container(waiting)],
      }),
      "Pending",
    ],
  ])("%s -> %s", (_name, v, phase) => {
    expect(podPhase(v)).toBe(phase);
  });
});

describe("podStatus", () => {
  const later = new Date("2026-01-01T00:05:00.700Z");

  it("keeps a condition's lastTransitionTime until its status changes", () => {
    const first = podStatus(
      view({ containers: [container(running, { ready: false })] }),
      undefined,
      t0,
    );
    const same = podStatus(
      view({ containers: [container(running, { ready: false })] }),
      first,
      later,
    );
    const ready = same.conditions?.find((c) => c.type === "Ready");
    expect(ready?.status).toBe("False");
    expect(ready?.lastTransitionTime).toEqual(t0);
    const flipped = podStatus(
      view({ containers: [container(running, { ready: true })] }),
      same,
      later,
    );
    const readyNow = flipped.conditions?.find((c) => c.type === "Ready");
    expect(readyNow?.status).toBe("True");
    // Second precision, like metav1.Time.
    expect(readyNow?.lastTransitionTime).toEqual(new Date("2026-01-01T00:05:00Z"));
  });

  it("keeps conditions other components own, such as PodScheduled", () => {
    const scheduled = { type: "PodScheduled", status: "True", lastTransitionTime: t0 };
    const s = podStatus(view({}), { conditions: [scheduled] }, later);
    expect(s.conditions?.find((c) => c.type === "PodScheduled")).toEqual(scheduled);
  });

  it("names the unready containers and reports pod IPs", () => {
    const s = podStatus(view({ containers: [container(running, { name: "web" })] }), undefined, t0);
    const ready = s.conditions?.find((c) => c.type === "Ready");
    expect(ready?.reason).toBe("ContainersNotReady");
    expect(ready?.message).toBe("containers with unready status: [web]");
    expect(s.podIP).toBe("10.244.1.2");
    expect(s.podIPs).toEqual([{ ip: "10.244.1.2" }]);
  });

  it("marks a finished pod not ready with reason PodCompleted", () => {
    const s = podStatus(
      view({ restartPolicy: "Never", containers: [container(exited(0))] }),
      undefined,
      t0,
    );
    expect(s.phase).toBe("Succeeded");
    expect(s.conditions?.find((c) => c.type === "Ready")).toMatchObject({
      status: "False",
      reason: "PodCompleted",
    });
  });
});
