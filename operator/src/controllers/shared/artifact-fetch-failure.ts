import type { V1ContainerStateTerminated, V1Pod } from "@kubernetes/client-node";

import { FETCH_MODEL_CONTAINER } from "./s3-artifact-fetch.js";

/**
 * Why a serving pod refused its model artifact: the last failed run of its `fetch-model` init
 * container (whose termination message is the tail of its log, naming a digest mismatch, a
 * missing manifest or refused keys), or undefined while none failed. Pure.
 */
export function artifactFetchFailure(pods: readonly V1Pod[]): string | undefined {
  for (const pod of pods) {
    const s = pod.status?.initContainerStatuses?.find((c) => c.name === FETCH_MODEL_CONTAINER);
    const failed = [s?.state?.terminated, s?.lastState?.terminated].find(
      (t): t is V1ContainerStateTerminated => t !== undefined && t.exitCode !== 0,
    );
    if (!failed) continue;
    const why = (failed.message ?? "").trim().split("\n").filter(Boolean).at(-1);
    return `pod ${pod.metadata?.name} refused the model artifact: ${why ?? `exit code ${failed.exitCode}`}`;
  }
  return undefined;
}
