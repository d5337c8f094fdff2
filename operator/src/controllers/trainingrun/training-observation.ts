import type { V1ContainerStatus, V1Job, V1Pod } from "@kubernetes/client-node";
import { TrainerContainers } from "./build-training-job.js";

/** What the controller saw of the training Job (times as the apiserver's strings). */
export interface JobObservation {
  name: string;
  active: number;
  failed: number;
  succeeded: number;
  startTime?: string;
  completionTime?: string;
  conditions: Array<{
    type: string;
    status: string;
    reason?: string;
    message?: string;
    time?: string;
  }>;
}

/** What the controller saw of one container of a trainer pod. */
export interface ContainerObservation {
  running: boolean;
  waiting?: { reason: string; message?: string };
  terminated?: { exitCode: number; reason?: string; message?: string; finishedAt?: string };
}

/**
 * What the controller saw of one trainer pod: the trainer container's state at the top level,
 * the data validator's (the init container) under `validator`.
 */
export interface PodObservation extends ContainerObservation {
  name: string;
  phase: string;
  createdAt: string;
  validator?: ContainerObservation;
}

const str = (v: unknown): string | undefined =>
  v === undefined || v === null ? undefined : v instanceof Date ? v.toISOString() : String(v);

/** Extracts the observation of a Job object. */
export function observeJob(job: V1Job): JobObservation {
  return {
    name: job.metadata?.name ?? "",
    active: job.status?.active ?? 0,
    failed: job.status?.failed ?? 0,
    succeeded: job.status?.succeeded ?? 0,
    startTime: str(job.status?.startTime),
    completionTime: str(job.status?.completionTime),
    conditions: (job.status?.conditions ?? []).map((c) => ({
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message,
      time: str(c.lastTransitionTime),
    })),
  };
}

/** Extracts the observation of a trainer pod: its validator init container and its trainer. */
export function observePod(pod: V1Pod): PodObservation {
  const trainer = pod.status?.containerStatuses?.find((c) => c.name === TrainerContainers.train);
  const validator = pod.status?.initContainerStatuses?.find(
    (c) => c.name === TrainerContainers.validate,
  );
  return {
    name: pod.metadata?.name ?? "",
    phase: pod.status?.phase ?? "Pending",
    createdAt: str(pod.metadata?.creationTimestamp) ?? "",
    ...observeContainer(trainer),
    validator: validator ? observeContainer(validator) : undefined,
  };
}

function observeContainer(cs: V1ContainerStatus | undefined): ContainerObservation {
  const t = cs?.state?.terminated;
  const w = cs?.state?.waiting;
  return {
    running: cs?.state?.running !== undefined && cs.state.running !== null,
    waiting: w ? { reason: w.reason ?? "Waiting", message: w.message } : undefined,
    terminated: t
      ? {
          exitCode: t.exitCode,
          reason: t.reason,
          message: t.message,
          finishedAt: str(t.finishedAt),
        }
      : undefined,
  };
}
