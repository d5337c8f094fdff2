import { posix } from "node:path";
import type {
  V1Container,
  V1Job,
  V1ResourceRequirements,
  V1Volume,
  V1VolumeMount,
} from "@kubernetes/client-node";
import { BatchExit } from "../../../../runtime/src/batch/shard-summary.js";
import type { ArtifactLocation } from "../../api/artifact-uri.js";
import { type S3Access, type S3EnvNames, s3AccessEnv, s3Uri } from "../../api/s3-source.js";
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
import { childMetadata } from "../shared/owner-reference.js";
import { containerSecurityContext, podSecurityContext } from "../shared/pod-hardening.js";
import { s3FetchContainer } from "../shared/s3-artifact-fetch.js";

/** Operator settings the scoring Job depends on. */
export interface ScoringJobSettings {
  runtimeImage: string;
  imagePullPolicy: string;
  /** The trainer image, whose `fetch-artifact` downloads an s3:// model (init container). */
  trainerImage?: string;
}

/** Where the model is: a PVC store, or an s3:// artifact with the access to fetch it. */
export type ScoringModelLocation =
  | ArtifactLocation
  | { scheme: "s3"; uri: string; access: S3Access | undefined };

/**
 * The output store's variables (`churn-runtime batch` reads CHURN_OUTPUT_*, each falling back
 * to AWS_*), so an output in another store than the input's gets its own keys.
 */
export const OUTPUT_S3_ENV: S3EnvNames = {
  endpoint: "CHURN_OUTPUT_ENDPOINT_URL_S3",
  region: "CHURN_OUTPUT_REGION",
  accessKeyId: "CHURN_OUTPUT_ACCESS_KEY_ID",
  secretAccessKey: "CHURN_OUTPUT_SECRET_ACCESS_KEY",
};

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

/** `pvc://claim/path` or `s3://bucket/prefix` of the run's output directory. */
export function outputLocation(run: ScoringRun): string {
  const { persistentVolumeClaim: pvc, s3 } = run.spec.output;
  if (s3) return `s3://${s3.bucket}/${s3.prefix}`;
  if (!pvc) throw new UnsupportedSpecError("output: set persistentVolumeClaim or s3");
  return `pvc://${pvc.claimName}/${pvc.path}`;
}

const optionalArg = (flag: string, v: string | number | undefined) =>
  v === undefined ? [] : [flag, String(v)];

/** The batch command line of every shard (the index comes from JOB_COMPLETION_INDEX). */
function batchArgs(
  run: ScoringRun,
  model: { digest: string; dir: string },
  input: string,
  output: string,
) {
  const s = run.spec;
  return [
    "batch",
    ...["--model-dir", model.dir, "--expected-digest", model.digest],
    ...["--input", input],
    ...optionalArg("--input-format", s.input.format),
    ...optionalArg("--delimiter", s.input.delimiter),
    ...["--output", output],
    ...["--output-format", s.output.format],
    ...["--shards", String(shardsOf(s.shards)), "--batch-rows", String(batchRowsOf(s.batchRows))],
    ...["--max-rejected-percent", String(maxRejectedPercentOf(s.maxRejectedPercent))],
    ...optionalArg("--max-rejected-rows", s.maxRejectedRows),
    ...optionalArg("--id-column", s.idColumn),
    ...optionalArg("--explain-top-k", s.explain?.topK),
    ...["--summary-file", ScoringPaths.terminationLog],
  ];
}

/**
 * The input as the shard sees it: a mounted file, a URL, or an s3:// object or prefix with its
 * keys (each shard lists a prefix itself and reads its ~1/N of the bytes).
 */
function inputOf(run: ScoringRun) {
  const s3 = run.spec.input.s3;
  if (s3) return { location: s3Uri(s3), env: s3AccessEnv(s3) };
  const mounted = mountDataSource(run.spec.input, "input", ScoringPaths.input);
  if (!mounted)
    throw new UnsupportedSpecError("input: this source kind is not supported by ScoringRun yet");
  return { ...mounted, env: [] };
}

/**
 * The shard pods' volumes, env and init containers: the model (a PVC read-only, or an emptyDir
 * an init container fills from S3), the output (a PVC read-write, or an S3 prefix the shard
 * uploads to), the input (a read-only volume, or none for a URL or S3).
 */
function podParts(run: ScoringRun, model: ScoringModelLocation, s: ScoringJobSettings) {
  const input = inputOf(run);
  const { persistentVolumeClaim: out, s3: outS3 } = run.spec.output;
  if (!out && !outS3) throw new UnsupportedSpecError("output: set persistentVolumeClaim or s3");
  const volumes: V1Volume[] = [{ name: "tmp", emptyDir: { sizeLimit: "1Gi" } }];
  const mounts: V1VolumeMount[] = [{ name: "tmp", mountPath: ScoringPaths.tmp }];
  const initContainers: V1Container[] = [];
  if (model.scheme === "s3") {
    if (!s.trainerImage) throw new Error("scoring with an s3:// model needs the trainer image");
    volumes.push({ name: "models", emptyDir: { sizeLimit: "1Gi" } });
    initContainers.push(
      s3FetchContainer(model.uri, model.access, {
        trainerImage: s.trainerImage,
        imagePullPolicy: s.imagePullPolicy,
        volume: "models",
        mountPath: ScoringPaths.models,
        tmpVolume: "tmp",
      }),
    );
  } else {
    volumes.push({
      name: "models",
      persistentVolumeClaim: { claimName: model.claimName, readOnly: true },
    });
  }
  mounts.push({ name: "models", mountPath: ScoringPaths.models, readOnly: true });
  if (out) {
    volumes.push({ name: "output", persistentVolumeClaim: { claimName: out.claimName } });
    mounts.push({ name: "output", mountPath: ScoringPaths.output });
  }
  if ("volume" in input && input.volume && input.mount) {
    volumes.push(input.volume);
    mounts.push(input.mount);
  }
  return {
    volumes,
    mounts,
    initContainers,
    input: input.location,
    output: outS3 ? outputLocation(run) : posix.join(ScoringPaths.output, out?.path ?? ""),
    env: [...input.env, ...(outS3 ? s3AccessEnv(outS3, OUTPUT_S3_ENV) : [])],
  };
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
  model: { digest: string; location: ScoringModelLocation },
  s: ScoringJobSettings,
): V1Job {
  const labels = scoringLabels(run);
  const shards = shardsOf(run.spec.shards);
  const pod = podParts(run, model.location, s);
  const inStore = model.location.scheme === "s3" ? model.digest : model.location.path;
  const modelDir = posix.join(ScoringPaths.models, inStore);
  const container: V1Container = {
    name: SCORER_CONTAINER,
    image: run.spec.image ?? s.runtimeImage,
    imagePullPolicy: s.imagePullPolicy,
    args: batchArgs(run, { digest: model.digest, dir: modelDir }, pod.input, pod.output),
    env: [{ name: "HOME", value: ScoringPaths.tmp }, ...pod.env],
    resources: run.spec.resources as V1ResourceRequirements | undefined,
    securityContext: containerSecurityContext(),
    terminationMessagePath: ScoringPaths.terminationLog,
    terminationMessagePolicy: "File",
    volumeMounts: pod.mounts,
  };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: childMetadata(run, scoringJobName(run), labels),
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
          ...(pod.initContainers.length > 0 ? { initContainers: pod.initContainers } : {}),
          containers: [container],
          volumes: pod.volumes,
        },
      },
    },
  };
}
