import type { V1EnvVar } from "@kubernetes/client-node";
import { z } from "zod";
import { exactlyOneOf } from "./exactly-one-of.js";

/** S3's bucket naming rules (3-63 characters, lowercase letters, digits, dots and hyphens). */
export const S3_BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Data in an S3-compatible object store: one object (`key`) or every object under a `prefix`
 * (the files of one table, read in key order). The credentials are a Secret's keys, given to
 * the Job's containers as environment variables; they never enter the spec or its ConfigMap.
 */
/** How to reach an S3-compatible store and sign in: shared by data sources and model stores. */
const s3AccessFields = {
  endpoint: z
    .string()
    .regex(/^https?:\/\//, "must be an http(s) URL")
    .optional()
    .describe(
      "URL of an S3-compatible server (SeaweedFS, Ceph, R2, ...). Default: AWS S3 of the region.",
    ),
  region: z.string().min(1).optional().describe("Region to sign requests for. Default us-east-1."),
  credentialsSecret: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Secret in the same namespace with the keys AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. Without it the pod's own identity is used (e.g. a service account bound to an IAM role).",
    ),
};

/** How to reach the S3 model store an `s3://` artifact is in. */
export const s3AccessSchema = z
  .object(s3AccessFields)
  .describe("How to reach the S3 store of an s3:// artifact URI.");

export type S3Access = z.output<typeof s3AccessSchema>;

export const s3SourceSchema = z
  .object({
    bucket: z.string().regex(S3_BUCKET_NAME, "must be an S3 bucket name").describe("The bucket."),
    key: z
      .string()
      .min(1)
      .regex(/[^/]$/, "must not end in / (use prefix for a folder)")
      .optional()
      .describe("Key of the one object to read."),
    prefix: z
      .string()
      .regex(/^$|\/$/, "must end in / (or be empty: the whole bucket)")
      .optional()
      .describe(
        "Read every object under this prefix, in key order, as one table (same columns in each); names starting with _ or . (_SUCCESS, .crc) are skipped.",
      ),
    ...s3AccessFields,
  })
  .describe("Read from S3 (or an S3-compatible store). Set exactly one of key, prefix.")
  .meta({ "x-kubernetes-validations": [exactlyOneOf(["key", "prefix"], "s3")] });

export type S3Source = z.output<typeof s3SourceSchema>;

/** A prefix to write objects under (a ScoringRun's part files). */
export const s3PrefixSchema = z
  .object({
    bucket: z.string().regex(S3_BUCKET_NAME, "must be an S3 bucket name").describe("The bucket."),
    prefix: z
      .string()
      .regex(/^$|\/$/, "must end in / (or be empty: the bucket's top)")
      .describe("Key prefix of the part-<index> and rejects-<index> objects."),
    ...s3AccessFields,
  })
  .describe(
    "Write to S3 (or an S3-compatible store): one object per shard and file, each PUT whole.",
  );

export type S3Prefix = z.output<typeof s3PrefixSchema>;

/** The environment variables that carry an S3 source's credentials (boto3's and the AWS SDKs'). */
export const S3CredentialKeys = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] as const;

/** The environment variable names a program reads one S3 store's access from. */
export interface S3EnvNames {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** boto3's and the AWS SDKs' own names (AWS_ENDPOINT_URL_S3, AWS_REGION, AWS_*_KEY*). */
export const AWS_ENV_NAMES: S3EnvNames = {
  endpoint: "AWS_ENDPOINT_URL_S3",
  region: "AWS_REGION",
  accessKeyId: "AWS_ACCESS_KEY_ID",
  secretAccessKey: "AWS_SECRET_ACCESS_KEY",
};

/**
 * Environment giving a container an S3 store: endpoint and region, and the Secret's keys under
 * `names` (other names than AWS_* for a second store in the same container, e.g. an output).
 */
export function s3AccessEnv(s3: S3Access, names: S3EnvNames = AWS_ENV_NAMES): V1EnvVar[] {
  const env: V1EnvVar[] = [];
  if (s3.endpoint) env.push({ name: names.endpoint, value: s3.endpoint });
  if (s3.region) env.push({ name: names.region, value: s3.region });
  return [...env, ...s3CredentialsEnv(s3, names)];
}

/**
 * An S3 source's credentials, from its Secret into the environment (boto3 reads them there):
 * never into a spec or ConfigMap. Without a Secret the pod's own identity is used.
 */
export function s3CredentialsEnv(s3: S3Access, names: S3EnvNames = AWS_ENV_NAMES): V1EnvVar[] {
  const secret = s3.credentialsSecret;
  if (!secret) return [];
  const [idKey, secretKey] = S3CredentialKeys;
  return [
    { name: names.accessKeyId, valueFrom: { secretKeyRef: { name: secret, key: idKey } } },
    { name: names.secretAccessKey, valueFrom: { secretKeyRef: { name: secret, key: secretKey } } },
  ];
}

/** `s3://bucket/key`, or `s3://bucket/prefix/` for a prefix. */
export function s3Uri(s: S3Source): string {
  return `s3://${s.bucket}/${s.key ?? s.prefix ?? ""}`;
}
