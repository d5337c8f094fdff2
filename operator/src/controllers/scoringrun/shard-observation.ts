import type { V1Job, V1Pod } from "@kubernetes/client-node";
import type { ShardSummary } from "../../../../runtime/src/batch/shard-summary.js";
import { artifactFetchFailure } from "../shared/artifact-fetch-failure.js";
import { type JobObservation, observeJob } from "../trainingrun/training-observation.js";
import { SCORER_CONTAINER } from "./build-scoring-job.js";

const optional = <K extends string>(key: K, v: string | undefined) =>
  (v === undefined ? {} : { [key]: v }) as Partial<Record<K, string>>;

/** What the controller saw of the Indexed Job. */
export interface IndexedJobObservation extends JobObservation {
  completedIndexes: number[];
  failedIndexes: number[];
}

/** What the controller saw of one shard pod. */
export interface ShardPodObservation {
  name: string;
  index: number;
  phase: string;
  exitCode?: number;
  /** The shard's report (its termination message), when it wrote one. */
  summary?: ShardSummary;
  /** Why its init container refused the s3:// model, when it did. */
  artifactRejected?: string;
}

/** The indexes of a Job's `completedIndexes` / `failedIndexes` ("0-2,5"). */
export function parseIndexes(text: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (text ?? "").split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let i = from; i <= to; i++) out.push(i);
  }
  return out;
}

/** Extracts the observation of the scoring Job. */
export function observeIndexedJob(job: V1Job): IndexedJobObservation {
  return {
    ...observeJob(job),
    completedIndexes: parseIndexes(job.status?.completedIndexes),
    failedIndexes: parseIndexes(job.status?.failedIndexes),
  };
}

function parseSummary(message: string | undefined): ShardSummary | undefined {
  if (!message) return undefined;
  try {
    const v = JSON.parse(message) as ShardSummary;
    return typeof v.scored === "number" && typeof v.rejected === "number" ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Extracts the observation of a shard pod; undefined for a pod with no completion index. */
export function observeShardPod(pod: V1Pod): ShardPodObservation | undefined {
  const index = Number(pod.metadata?.labels?.["batch.kubernetes.io/job-completion-index"]);
  if (!Number.isInteger(index)) return undefined;
  const terminated = pod.status?.containerStatuses?.find((c) => c.name === SCORER_CONTAINER)?.state
    ?.terminated;
  return {
    name: pod.metadata?.name ?? "",
    index,
    phase: pod.status?.phase ?? "Unknown",
    exitCode: terminated?.exitCode,
    summary: parseSummary(terminated?.message),
    ...optional("artifactRejected", artifactFetchFailure([pod])),
  };
}
