import type { V1Job, V1Pod } from "@kubernetes/client-node";

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

/** What the controller saw of one trainer pod. */
export interface PodObservation {
  name: string;
  phase: string;
  createdAt: string;
  running: boolean;
  waiting?: { reason: string; message?: string };
  terminated?: { exitCode: number; reason?: string; message?: string; finishedAt?: string };
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

/** Extracts the observation of a trainer pod (its single container named "trainer"). */
export function observePod(pod: V1Pod): PodObservation {
  const cs = pod.status?.containerStatuses?.find((c) => c.name === "trainer");
  const t = cs?.state?.terminated;
  const w = cs?.state?.waiting;
  return {
    name: pod.metadata?.name ?? "",
    phase: pod.status?.phase ?? "Pending",
    createdAt: str(pod.metadata?.creationTimestamp) ?? "",
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
