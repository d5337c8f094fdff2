import { posix } from "node:path";
import type { V1Container, V1Job, V1ResourceRequirements, V1Volume } from "@kubernetes/client-node";
import { BatchExit } from "../../../../runtime/src/batch/shard-summary.js";
import type { ArtifactLocation } from "../../api/artifact-uri.js";
import {
  backoffLimitPerIndexOf,
  batchRowsOf,
  maxRejectedPercentOf,
  parallelismOf,
  scoringDeadlineSecondsOf,
  scoringTtlSecondsOf,
  shardsOf,
} from "../../api/scoring-defaults.js";
import type { ScoringRun } from "../../api/scoring-run.js";
import { childName } from "../shared/child-name.js";
import { mountDataSource } from "../shared/data-source-volume.js";
import { Labels, MANAGED_BY } from "../shared/labels.js";
import { controllerRef } from "../shared/owner-reference.js";
import { containerSecurityContext, podSecurityContext } from "../shared/pod-hardening.js";

/** Operator settings the scoring Job depends on. */
export interface ScoringJobSettings {
  runtimeImage: string;
  imagePullPolicy: string;
}

/** Where things are inside a shard pod. */
export const ScoringPaths = {
  models: "/models",
  input: "/input",
  output: "/output",
  tmp: "/tmp",
  terminationLog: "/dev/termination-log",
} as const;

/** The shard container's name. */
export const SCORER_CONTAINER = "scorer";

/** Raised when a spec cannot become a Job (a source kind this controller does not mount yet). */
export class UnsupportedSpecError extends Error {
  override readonly name = "UnsupportedSpecError";
}

/** Name of the Indexed Job of a ScoringRun (deterministic: a second pass finds, never duplicates). */
export function scoringJobName(run: ScoringRun): string {
  return childName(run.metadata?.name ?? "", "score");
}

/** Labels of the Job and its pods. */
export function scoringLabels(run: ScoringRun): Record<string, string> {
  return {
    [Labels.managedBy]: MANAGED_BY,
    [Labels.name]: "churn-batch",
    [Labels.component]: "scoring",
    [Labels.scoringRun]: run.metadata?.name ?? "",
  };
}

/** `pvc://claim/path` of the run's output directory. */
export function outputLocation(run: ScoringRun): string {
  const pvc = run.spec.output.persistentVolumeClaim;
  if (!pvc) throw new UnsupportedSpecError("output: set persistentVolumeClaim");
  return `pvc://${pvc.claimName}/${pvc.path}`;
}

const optionalArg = (flag: string, v: string | number | undefined) =>
  v === undefined ? [] : [flag, String(v)];

/** The batch command line of every shard (the index comes from JOB_COMPLETION_INDEX). */
function batchArgs(run: ScoringRun, model: { digest: string; dir: string }, input: string) {
  const s = run.spec;
  return [
    "batch",
    ...["--model-dir", model.dir, "--expected-digest", model.digest],
    ...["--input", input],
    ...optionalArg("--input-format", s.input.format),
    ...optionalArg("--delimiter", s.input.delimiter),
    ...["--output", posix.join(ScoringPaths.output, s.output.persistentVolumeClaim?.path ?? "")],
    ...["--output-format", s.output.format],
    ...["--shards", String(shardsOf(s.shards)), "--batch-rows", String(batchRowsOf(s.batchRows))],
    ...["--max-rejected-percent", String(maxRejectedPercentOf(s.maxRejectedPercent))],
    ...optionalArg("--max-rejected-rows", s.maxRejectedRows),
    ...optionalArg("--id-column", s.idColumn),
    ...optionalArg("--explain-top-k", s.explain?.topK),
    ...["--summary-file", ScoringPaths.terminationLog],
  ];
}

/** The shard pods' volumes: the model store and output read-write, the input read-only. */
function volumesOf(run: ScoringRun, model: ArtifactLocation) {
  const mounted = mountDataSource(run.spec.input, "input", ScoringPaths.input);
  if (!mounted)
    throw new UnsupportedSpecError("input: this source kind is not supported by ScoringRun yet");
  const out = run.spec.output.persistentVolumeClaim;
  if (!out) throw new UnsupportedSpecError("output: set persistentVolumeClaim");
  const volumes: V1Volume[] = [
    { name: "models", persistentVolumeClaim: { claimName: model.claimName, readOnly: true } },
    { name: "output", persistentVolumeClaim: { claimName: out.claimName } },
    { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
  ];
  const mounts = [
    { name: "models", mountPath: ScoringPaths.models, readOnly: true },
    { name: "output", mountPath: ScoringPaths.output },
    { name: "tmp", mountPath: ScoringPaths.tmp },
  ];
  if (mounted.volume && mounted.mount) {
    volumes.push(mounted.volume);
    mounts.push(mounted.mount as (typeof mounts)[number]);
  }
  return { volumes, mounts, input: mounted.location };
}

/**
 * The ScoringRun's Indexed Job: `shards` completions, each pod scoring the slice its
 * JOB_COMPLETION_INDEX names with the runtime image's batch mode. Each index retries on its
 * own (backoffLimitPerIndex); an unusable model or input (exit 2) fails the whole Job at once,
 * too many bad rows (exit 3) fails that index without retrying (the data will not change), and
 * evictions are retried without counting. maxFailedIndexes 0: one shard failed for good fails
 * the run, so the rest stop instead of scoring for nothing.
 */
export function buildScoringJob(
  run: ScoringRun,
  model: { digest: string; location: ArtifactLocation },
  s: ScoringJobSettings,
): V1Job {
  const labels = scoringLabels(run);
  const shards = shardsOf(run.spec.shards);
  const { volumes, mounts, input } = volumesOf(run, model.location);
  const modelDir = posix.join(ScoringPaths.models, model.location.path);
  const container: V1Container = {
    name: SCORER_CONTAINER,
    image: run.spec.image ?? s.runtimeImage,
    imagePullPolicy: s.imagePullPolicy,
    args: batchArgs(run, { digest: model.digest, dir: modelDir }, input),
    env: [{ name: "HOME", value: ScoringPaths.tmp }],
    resources: run.spec.resources as V1ResourceRequirements | undefined,
    securityContext: containerSecurityContext(),
    terminationMessagePath: ScoringPaths.terminationLog,
    terminationMessagePolicy: "File",
    volumeMounts: mounts,
  };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: scoringJobName(run),
      namespace: run.metadata?.namespace,
      labels,
      ownerReferences: [controllerRef(run)],
    },
    spec: {
      completionMode: "Indexed",
      completions: shards,
      parallelism: parallelismOf(shards, run.spec.parallelism),
      backoffLimitPerIndex: backoffLimitPerIndexOf(run.spec.backoffLimitPerIndex),
      maxFailedIndexes: 0,
      activeDeadlineSeconds: scoringDeadlineSecondsOf(run.spec.activeDeadlineSeconds),
      ttlSecondsAfterFinished: scoringTtlSecondsOf(run.spec.ttlSecondsAfterFinished),
      podFailurePolicy: {
        rules: [
          {
            action: "FailJob",
            onExitCodes: {
              containerName: SCORER_CONTAINER,
              operator: "In",
              values: [BatchExit.unusable],
            },
          },
          {
            action: "FailIndex",
            onExitCodes: {
              containerName: SCORER_CONTAINER,
              operator: "In",
              values: [BatchExit.tooManyRejects],
            },
          },
          { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
        ],
      },
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          // Shards need no Kubernetes API: no token.
          automountServiceAccountToken: false,
          securityContext: podSecurityContext(),
          containers: [container],
          volumes,
        },
      },
    },
  };
}
