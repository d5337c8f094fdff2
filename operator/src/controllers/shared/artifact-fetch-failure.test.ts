import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { artifactFetchFailure } from "./artifact-fetch-failure.js";

const pod = (name: string, fetch: Partial<V1ContainerStatus>): V1Pod => ({
  metadata: { name },
  status: {
    initContainerStatuses: [
      { name: "fetch-model", image: "t", imageID: "", ready: false, restartCount: 1, ...fetch },
    ],
  },
});
const failed = (message?: string) => ({ terminated: { exitCode: 1, message } });

describe("artifactFetchFailure", () => {
  it.each([
    ["no pods", [], undefined],
    ["a fetch that is running", [pod("a", { state: { running: {} } })], undefined],
    ["a fetch that succeeded", [pod("a", { state: { terminated: { exitCode: 0 } } })], undefined],
  ])("is undefined for %s", (_what, pods, want) => {
    expect(artifactFetchFailure(pods)).toBe(want);
  });
  it("names the pod and the last line of its log, also while it waits to retry", () => {
    const log = "downloading\n[churn-trainer] fetch-artifact failed: model.onnx: sha256 differs\n";
    const backoff = pod("b", {
      state: { waiting: { reason: "CrashLoopBackOff" } },
      lastState: failed(log),
    });
    expect(artifactFetchFailure([pod("a", { state: { running: {} } }), backoff])).toBe(
      "pod b refused the model artifact: [churn-trainer] fetch-artifact failed: model.onnx: sha256 differs",
    );
    expect(artifactFetchFailure([pod("c", { state: failed() })])).toBe(
      "pod c refused the model artifact: exit code 1",
    );
  });
});
