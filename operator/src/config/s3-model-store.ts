import type { V1EnvVar } from "@kubernetes/client-node";
import { S3_BUCKET_NAME, type S3Access, s3AccessEnv } from "../api/s3-source.js";

/** An S3 model store: trainers publish each artifact under `<uri><digest>/` with a manifest. */
export interface S3ModelStore {
  /** `s3://bucket/prefix/`, always ending in `/`. */
  uri: string;
  /** Endpoint, region and credentials Secret (by name, in each namespace that trains or serves). */
  access: S3Access;
}

/** The operator's S3 model store settings as given (flags or env), any of them unset. */
export interface S3ModelStoreFlags {
  uri: string | undefined;
  credentialsSecret: string | undefined;
  endpoint: string | undefined;
  region: string | undefined;
}

/**
 * The S3 model store of the operator's flags; undefined (the PVC store) without a URI. Throws,
 * naming the flag, for a URI that is not `s3://bucket[/prefix]` or an endpoint that is not a
 * URL, and for store settings given without a store (a typo would otherwise train to the PVC).
 */
export function s3ModelStoreOf(f: S3ModelStoreFlags): S3ModelStore | undefined {
  if (!f.uri) {
    const stray = (["credentialsSecret", "endpoint", "region"] as const).filter((k) => f[k]);
    if (stray.length > 0) {
      throw new Error(`--model-store-${flagOf(stray[0])} is set but --model-store is not`);
    }
    return undefined;
  }
  const m = /^s3:\/\/([^/]+)(\/.*)?$/.exec(f.uri);
  if (!m || !S3_BUCKET_NAME.test(m[1] as string) || (m[2] ?? "").includes("//")) {
    throw new Error(`--model-store must be s3://<bucket>/<prefix>/, got ${JSON.stringify(f.uri)}`);
  }
  if (f.endpoint && !/^https?:\/\//.test(f.endpoint)) {
    throw new Error(`--model-store-endpoint must be an http(s) URL, got ${f.endpoint}`);
  }
  const prefix = (m[2] ?? "/").replace(/^\//, "");
  const access: S3Access = {};
  if (f.endpoint) access.endpoint = f.endpoint;
  if (f.region) access.region = f.region;
  if (f.credentialsSecret) access.credentialsSecret = f.credentialsSecret;
  return {
    uri: `s3://${m[1]}/${prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`}`,
    access,
  };
}

function flagOf(k: keyof S3ModelStoreFlags | undefined): string {
  return k === "credentialsSecret" ? "secret" : (k ?? "");
}

/** The `s3://` URI of the artifact with this digest in the store (the trainer's layout). */
export function s3StoreArtifactUri(store: S3ModelStore, digest: string): string {
  return `${store.uri}${digest}/`;
}

/** True when `uri` lies in the store (its credentials are the ones to read it with). */
export function inS3ModelStore(store: S3ModelStore | undefined, uri: string): boolean {
  return store !== undefined && uri.startsWith(store.uri);
}

/**
 * The trainer's environment for publishing to the store: names of its own
 * (S3Options.model_store_from_env in the trainer), so a data set read from S3 with other
 * credentials (AWS_*) does not clash; the keys come from the Secret, never a ConfigMap.
 */
export function s3ModelStoreTrainerEnv(store: S3ModelStore): V1EnvVar[] {
  return s3AccessEnv(store.access, {
    endpoint: "CHURN_MODEL_STORE_ENDPOINT",
    region: "CHURN_MODEL_STORE_REGION",
    accessKeyId: "CHURN_MODEL_STORE_ACCESS_KEY_ID",
    secretAccessKey: "CHURN_MODEL_STORE_SECRET_ACCESS_KEY",
  });
}
