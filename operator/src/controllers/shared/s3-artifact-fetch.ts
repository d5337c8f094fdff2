import type { V1Container } from "@kubernetes/client-node";
import type { ChurnModel } from "../../api/churn-model.js";
import { type S3Access, s3AccessEnv } from "../../api/s3-source.js";
import { inS3ModelStore, type S3ModelStore } from "../../config/s3-model-store.js";
import { containerSecurityContext } from "./pod-hardening.js";

/** Name of the init container that downloads and verifies an s3:// artifact. */
export const FETCH_MODEL_CONTAINER = "fetch-model";

/**
 * How to reach an s3:// artifact: the access given with the ChurnModel's own artifact source,
 * else the operator's store's when the artifact lies in it (a trained run's status.model.uri);
 * undefined (the pod's own identity) otherwise. A store's keys never go to a URI outside it.
 */
export function s3AccessOf(
  model: ChurnModel | undefined,
  uri: string,
  store: S3ModelStore | undefined,
): S3Access | undefined {
  const own = model?.spec.source.artifact;
  if (own?.uri === uri && own.s3) return own.s3;
  return inS3ModelStore(store, uri) ? store?.access : undefined;
}

/** What the fetching init container needs. */
export interface FetchSettings {
  /** The trainer image, whose `fetch-artifact` refuses an artifact unless it matches. */
  trainerImage: string;
  imagePullPolicy: string;
  /** Volume (an emptyDir) the artifact lands in, as `<mountPath>/<digest>`. */
  volume: string;
  mountPath: string;
  /** A writable scratch volume mounted at /tmp. */
  tmpVolume: string;
}

/**
 * The init container downloading an s3:// artifact (the trainer's `fetch-artifact`), refusing
 * it unless its _COMPLETE manifest and digest match; its log's last line, its termination
 * message, says why (artifactFetchFailure reads it).
 */
export function s3FetchContainer(
  uri: string,
  access: S3Access | undefined,
  s: FetchSettings,
): V1Container {
  return {
    name: FETCH_MODEL_CONTAINER,
    image: s.trainerImage,
    imagePullPolicy: s.imagePullPolicy,
    args: ["fetch-artifact", uri, "--dest", s.mountPath],
    env: [{ name: "HOME", value: "/tmp" }, ...s3AccessEnv(access ?? {})],
    securityContext: containerSecurityContext(),
    terminationMessagePolicy: "FallbackToLogsOnError",
    volumeMounts: [
      { name: s.volume, mountPath: s.mountPath },
      { name: s.tmpVolume, mountPath: "/tmp" },
    ],
  };
}
