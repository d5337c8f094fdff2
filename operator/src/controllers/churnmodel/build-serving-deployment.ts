import type {
  V1Container,
  V1Deployment,
  V1EnvVar,
  V1ResourceRequirements,
  V1Volume,
} from "@kubernetes/client-node";
import { isS3ArtifactUri, parseArtifactUri, parseS3ArtifactUri } from "../../api/artifact-uri.js";
import type { ChurnModel } from "../../api/churn-model.js";
import { Defaults, explanationsEnabledOf } from "../../api/defaults.js";
import { LABEL_PREFIX } from "../../api/group.js";
import type { S3ModelStore } from "../../config/s3-model-store.js";
import { Labels, MANAGED_BY } from "../shared/labels.js";
import { childMetadata } from "../shared/owner-reference.js";
import { containerSecurityContext, podSecurityContext } from "../shared/pod-hardening.js";
import { s3AccessOf, s3FetchContainer } from "../shared/s3-artifact-fetch.js";
import type { Variant } from "./desired-variants.js";
import { runtimeProbes } from "./runtime-probes.js";
import { versionDeploymentName, versionLabel } from "./serving-names.js";
import { runtimeContainerPorts, runtimeGrpcEnv } from "./serving-ports.js";

/** Operator settings a serving Deployment depends on. */
export interface ServingSettings {
  runtimeImage: string;
  imagePullPolicy: string;
  /** The trainer image, whose `fetch-artifact` downloads an s3:// artifact (init container). */
  trainerImage?: string;
  /** The operator's S3 model store: its access serves the trainingRun/latestFrom artifacts in it. */
  modelStoreS3?: S3ModelStore;
}

/** Labels selecting all serving pods of a model (the Service's selector). */
export function servingSelector(model: ChurnModel): Record<string, string> {
  return { [Labels.churnModel]: model.metadata?.name ?? "", [Labels.component]: "serving" };
}

/** Labels selecting the serving pods of one model version. */
export function versionSelector(model: ChurnModel, digest: string): Record<string, string> {
  return { ...servingSelector(model), [Labels.version]: versionLabel(digest) };
}

/** Where a serving pod finds its artifact: the volume, the path in it, any init container. */
interface ModelStoreMount {
  volume: V1Volume;
  path: string;
  initContainers?: V1Container[];
}

/**
 * The model store of a variant's pods. pvc://: the claim, read-only. s3://: an emptyDir that
 * an init container (the trainer image's `fetch-artifact`, with the store's endpoint, region
 * and credentials Secret) fills with the artifact, refusing it unless its _COMPLETE manifest
 * and digest match; the runtime then serves it like a PVC one, with --expected-digest.
 */
function modelStore(model: ChurnModel, variant: Variant, s: ServingSettings): ModelStoreMount {
  const { uri, digest } = variant.version;
  if (!isS3ArtifactUri(uri)) {
    const loc = parseArtifactUri(uri);
    return {
      volume: {
        name: "models",
        persistentVolumeClaim: { claimName: loc.claimName, readOnly: true },
      },
      path: loc.path,
    };
  }
  parseS3ArtifactUri(uri, digest);
  if (!s.trainerImage) throw new Error("serving an s3:// artifact needs the trainer image");
  const fetch = s3FetchContainer(uri, s3AccessOf(model, uri, s.modelStoreS3), {
    trainerImage: s.trainerImage,
    imagePullPolicy: s.imagePullPolicy,
    volume: "models",
    mountPath: MODELS_MOUNT,
    tmpVolume: "tmp",
  });
  return {
    volume: { name: "models", emptyDir: { sizeLimit: "1Gi" } },
    path: digest,
    initContainers: [fetch],
  };
}

/** Mount point of the model store inside serving pods. */
export const MODELS_MOUNT = "/models";

/**
 * The Deployment of one variant: the scoring runtime with the artifact mounted read-only and
 * `--expected-digest`, so a pod that somehow loads other bytes never becomes Ready.
 */
export function buildServingDeployment(
  model: ChurnModel,
  variant: Variant,
  s: ServingSettings,
): V1Deployment {
  const store = modelStore(model, variant, s);
  const port = Defaults.servingPort;
  const labels = {
    [Labels.managedBy]: MANAGED_BY,
    [Labels.name]: "churn-runtime",
    [Labels.instance]: model.metadata?.name ?? "",
    ...servingSelector(model),
    [Labels.version]: versionLabel(variant.version.digest),
  };
  const env: V1EnvVar[] = [
    { name: "CHURN_RUNTIME_HOST", value: "0.0.0.0" },
    { name: "CHURN_SHUTDOWN_DELAY_SECONDS", value: String(Defaults.shutdownDelaySeconds) },
    {
      name: "CHURN_EXPLANATIONS_ENABLED",
      value: String(explanationsEnabledOf(model.spec.explanations?.enabled)),
    },
  ];
  env.push(...runtimeGrpcEnv(model), ...(variant.extraEnv ?? []));
  if (model.spec.threshold !== undefined) {
    env.push({ name: "CHURN_DECISION_THRESHOLD", value: String(model.spec.threshold) });
  }
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: childMetadata(model, versionDeploymentName(model, variant.version.digest), labels),
    spec: {
      // An autoscaled variant's size belongs to its HPA: applying it would fight every scale.
      ...(variant.autoscale ? {} : { replicas: variant.replicas }),
      selector: { matchLabels: versionSelector(model, variant.version.digest) },
      // Full capacity during a rollout: a new pod must be Ready before an old one goes.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      progressDeadlineSeconds: 600,
      template: {
        metadata: {
          labels,
          annotations: {
            [`${LABEL_PREFIX}/digest`]: variant.version.digest,
            ...(variant.version.trainingRun
              ? { [`${LABEL_PREFIX}/training-run`]: variant.version.trainingRun }
              : {}),
          },
        },
        spec: {
          automountServiceAccountToken: false,
          securityContext: podSecurityContext(),
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: "runtime",
              image: model.spec.image ?? s.runtimeImage,
              imagePullPolicy: s.imagePullPolicy,
              args: [
                "serve",
                "--model-dir",
                `${MODELS_MOUNT}/${store.path}`,
                "--port",
                String(port),
                "--expected-digest",
                variant.version.digest,
              ],
              env,
              ports: runtimeContainerPorts(model),
              ...runtimeProbes({ startup: true }),
              resources: model.spec.resources as V1ResourceRequirements | undefined,
              securityContext: containerSecurityContext(),
              volumeMounts: [
                { name: "models", mountPath: MODELS_MOUNT, readOnly: true },
                { name: "tmp", mountPath: "/tmp" },
              ],
            },
          ],
          ...(store.initContainers ? { initContainers: store.initContainers } : {}),
          volumes: [store.volume, { name: "tmp", emptyDir: { sizeLimit: "256Mi" } }],
        },
      },
    },
  };
}
