import { posix } from "node:path";
import type {
  V1ConfigMap,
  V1Container,
  V1EnvVar,
  V1Job,
  V1ResourceRequirements,
  V1Volume,
  V1VolumeMount,
} from "@kubernetes/client-node";
import { pvcArtifactUri } from "../../api/artifact-uri.js";
import {
  activeDeadlineSecondsOf,
  backoffLimitOf,
  ttlSecondsAfterFinishedOf,
} from "../../api/defaults.js";
import { s3CredentialsEnv, s3Uri } from "../../api/s3-source.js";
import type { TrainingRun } from "../../api/training-run.js";
import {
  type S3ModelStore,
  s3ModelStoreTrainerEnv,
  s3StoreArtifactUri,
} from "../../config/s3-model-store.js";
import { childName } from "../shared/child-name.js";
import { Labels, MANAGED_BY } from "../shared/labels.js";
import { childMetadata } from "../shared/owner-reference.js";
import { containerSecurityContext, podSecurityContext } from "../shared/pod-hardening.js";
import { renderTrainerSpecFile, TRAINER_SPEC_FILE_NAME } from "./trainer-spec-file.js";
import { TrainerExit } from "./training-outcome.js";

/** Operator settings the training Job depends on. */
export interface TrainingJobSettings {
  trainerImage: string;
  modelStorePvc: string;
  /** Publish to this S3 store instead of the PVC (which then is not mounted). */
  modelStoreS3?: S3ModelStore;
  serviceAccount: string;
  imagePullPolicy: string;
}

/** The URI a trained artifact gets in the operator's store: its S3 store, else the PVC. */
export function trainedArtifactUri(
  s: Pick<TrainingJobSettings, "modelStorePvc" | "modelStoreS3">,
  digest: string,
): string {
  return s.modelStoreS3
    ? s3StoreArtifactUri(s.modelStoreS3, digest)
    : pvcArtifactUri(s.modelStorePvc, digest);
}

/** Where things are inside the trainer pod. */
export const TrainerPaths = {
  specDir: "/etc/churn-trainer",
  specFile: posix.join("/etc/churn-trainer", TRAINER_SPEC_FILE_NAME),
  models: "/models",
  data: "/data",
  tmp: "/tmp",
  terminationLog: "/dev/termination-log",
} as const;

/** The containers of a trainer pod: the data validator (an init container), then the trainer. */
export const TrainerContainers = { validate: "validate", train: "trainer" } as const;

/** Name of the Job of a TrainingRun (deterministic: a second pass finds, never duplicates). */
export function trainingJobName(run: TrainingRun): string {
  return childName(run.metadata?.name ?? "", "train");
}

/** Name of the ConfigMap holding a TrainingRun's trainer spec. */
export function trainingSpecConfigMapName(run: TrainingRun): string {
  return childName(run.metadata?.name ?? "", "spec");
}

function labelsOf(run: TrainingRun): Record<string, string> {
  return {
    [Labels.managedBy]: MANAGED_BY,
    [Labels.name]: "churn-trainer",
    [Labels.component]: "training",
    [Labels.trainingRun]: run.metadata?.name ?? "",
  };
}

/** The ConfigMap with the trainer's spec file. */
export function buildTrainingSpecConfigMap(run: TrainingRun): V1ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: childMetadata(run, trainingSpecConfigMapName(run), labelsOf(run)),
    data: { [TRAINER_SPEC_FILE_NAME]: renderTrainerSpecFile(run.spec) },
  };
}

/** Where the data set comes from: a volume (if any), the `--data` argument, and env (S3). */
interface DataSource {
  volume?: V1Volume;
  mount?: V1VolumeMount;
  arg: string;
  env?: V1EnvVar[];
}

function dataSource(run: TrainingRun): DataSource {
  const ds = run.spec.dataset;
  if (ds.url) return { arg: ds.url };
  if (ds.s3) return { arg: s3Uri(ds.s3), env: s3CredentialsEnv(ds.s3) };
  if (ds.persistentVolumeClaim) {
    return {
      volume: {
        name: "data",
        persistentVolumeClaim: { claimName: ds.persistentVolumeClaim.claimName, readOnly: true },
      },
      mount: { name: "data", mountPath: TrainerPaths.data, readOnly: true },
      arg: posix.join(TrainerPaths.data, ds.persistentVolumeClaim.path),
    };
  }
  if (ds.hostPath) {
    return {
      volume: {
        name: "data",
        hostPath: { path: posix.dirname(ds.hostPath.path), type: "Directory" },
      },
      mount: { name: "data", mountPath: TrainerPaths.data, readOnly: true },
      arg: posix.join(TrainerPaths.data, posix.basename(ds.hostPath.path)),
    };
  }
  throw new Error("dataset: set one of url, persistentVolumeClaim, hostPath, s3");
}

/**
 * The training Job: one hardened pod that first validates the data (the `validate` init
 * container, so the run is observably Validating and a bad data set fails before any training
 * starts), then trains with the spec file, the data and the model store mounted. Data and gate
 * failures (exit 2, 3 of either container) fail the Job at once through its pod failure policy;
 * anything else is retried up to backoffLimit.
 */
export function buildTrainingJob(run: TrainingRun, s: TrainingJobSettings): V1Job {
  const data = dataSource(run);
  const labels = labelsOf(run);
  const store = s.modelStoreS3;
  const volumes: V1Volume[] = [
    { name: "spec", configMap: { name: trainingSpecConfigMapName(run) } },
    ...(store ? [] : [{ name: "models", persistentVolumeClaim: { claimName: s.modelStorePvc } }]),
    { name: "tmp", emptyDir: { sizeLimit: "2Gi" } },
  ];
  const spec: V1VolumeMount = { name: "spec", mountPath: TrainerPaths.specDir, readOnly: true };
  const tmp: V1VolumeMount = { name: "tmp", mountPath: TrainerPaths.tmp };
  const models: V1VolumeMount[] = store ? [] : [{ name: "models", mountPath: TrainerPaths.models }];
  const dataMounts: V1VolumeMount[] = [];
  if (data.volume && data.mount) {
    volumes.push(data.volume);
    dataMounts.push(data.mount);
  }
  const container = (
    name: string,
    args: string[],
    mounts: V1VolumeMount[],
    extraEnv: V1EnvVar[] = [],
  ): V1Container => ({
    name,
    image: run.spec.image ?? s.trainerImage,
    imagePullPolicy: s.imagePullPolicy,
    args: [...args, "--data", data.arg, "--termination-log", TrainerPaths.terminationLog],
    env: [
      { name: "HOME", value: TrainerPaths.tmp },
      { name: "MPLCONFIGDIR", value: `${TrainerPaths.tmp}/matplotlib` },
      { name: "PYTHONDONTWRITEBYTECODE", value: "1" },
      { name: "PYTHONUNBUFFERED", value: "1" },
      ...(data.env ?? []),
      ...extraEnv,
    ],
    resources: run.spec.resources as V1ResourceRequirements | undefined,
    securityContext: containerSecurityContext(),
    terminationMessagePath: TrainerPaths.terminationLog,
    terminationMessagePolicy: "File",
    volumeMounts: mounts,
  });
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: childMetadata(run, trainingJobName(run), labels),
    spec: {
      backoffLimit: backoffLimitOf(run.spec.backoffLimit),
      activeDeadlineSeconds: activeDeadlineSecondsOf(run.spec.activeDeadlineSeconds),
      ttlSecondsAfterFinished: ttlSecondsAfterFinishedOf(run.spec.ttlSecondsAfterFinished),
      podFailurePolicy: {
        rules: [
          // One rule per container: a rule names at most one (an init container included).
          {
            action: "FailJob",
            onExitCodes: {
              containerName: TrainerContainers.validate,
              operator: "In",
              values: [TrainerExit.dataValidation],
            },
          },
          {
            action: "FailJob",
            onExitCodes: {
              containerName: TrainerContainers.train,
              operator: "In",
              values: [TrainerExit.dataValidation, TrainerExit.gate],
            },
          },
          // A pod evicted or preempted is not the trainer's fault: retry without counting it.
          { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
        ],
      },
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          serviceAccountName: s.serviceAccount,
          automountServiceAccountToken: false,
          securityContext: podSecurityContext(),
          // The validator never writes a model: it gets no model store.
          initContainers: [
            container(
              TrainerContainers.validate,
              ["validate", "--spec", TrainerPaths.specFile],
              [spec, tmp, ...dataMounts],
            ),
          ],
          containers: [
            container(
              TrainerContainers.train,
              [
                "train",
                "--spec",
                TrainerPaths.specFile,
                "--output",
                store?.uri ?? TrainerPaths.models,
              ],
              [spec, ...models, tmp, ...dataMounts],
              store ? s3ModelStoreTrainerEnv(store) : [],
            ),
          ],
          volumes,
        },
      },
    },
  };
}
