import type { V1Pod } from "@kubernetes/client-node";
import { waitFor } from "../../../../cluster/testing/wait-for.js";
import type { ChurnModel } from "../../../../operator/src/api/churn-model.js";
import type { TrainingRun } from "../../../../operator/src/api/training-run.js";
import {
  churnModelType,
  trainingRunType,
} from "../../../../operator/src/controllers/shared/custom-resources.js";
import type { KubeClient } from "../../../../operator/src/kube/kube-client.js";
import type { KubeObject } from "../../../../operator/src/kube/kube-object.js";
import { Resources } from "../../../../operator/src/kube/resources.js";

/** Waits until a TrainingRun reaches a terminal phase; returns it. */
export function waitForRunFinished(
  client: KubeClient,
  ns: string,
  name: string,
  timeoutMs = 600_000,
) {
  return waitFor(
    `TrainingRun ${ns}/${name} to finish`,
    async () => {
      const r = await client.get<TrainingRun>(trainingRunType, ns, name);
      return r?.status?.phase === "Succeeded" || r?.status?.phase === "Failed" ? r : undefined;
    },
    {
      timeoutMs,
      describe: async () =>
        JSON.stringify((await client.get<TrainingRun>(trainingRunType, ns, name))?.status),
    },
  );
}

/** Waits until a ChurnModel's Ready condition is True with every replica ready. */
export function waitForModelReady(
  client: KubeClient,
  ns: string,
  name: string,
  timeoutMs = 180_000,
) {
  return waitFor(
    `ChurnModel ${ns}/${name} Ready`,
    async () => {
      const m = await client.get<ChurnModel>(churnModelType, ns, name);
      return m?.status?.phase === "Ready" && m.status.readyReplicas === m.spec.replicas
        ? m
        : undefined;
    },
    {
      timeoutMs,
      describe: async () =>
        JSON.stringify((await client.get<ChurnModel>(churnModelType, ns, name))?.status),
    },
  );
}

/** Event reasons recorded on an object, oldest first. */
export async function eventReasons(
  client: KubeClient,
  ns: string,
  name: string,
): Promise<string[]> {
  const list = await client.list<KubeObject & { reason?: string }>(Resources.events, ns, {
    fieldSelector: `involvedObject.name=${name}`,
  });
  return list.items.map((e) => e.reason ?? "");
}

/** The trainer pods of a run. */
export async function trainerPods(client: KubeClient, ns: string, run: string): Promise<V1Pod[]> {
  const list = await client.list<V1Pod>(Resources.pods, ns, {
    labelSelector: `churn.mlops.dev/training-run=${run}`,
  });
  return list.items;
}
