import type { TrainingRunSpec } from "../../api/training-run.js";

/** TrainingRun.spec fields that only Kubernetes needs; the trainer rejects unknown keys. */
const KUBERNETES_ONLY = new Set([
  "dataset",
  "modelRef",
  "image",
  "resources",
  "backoffLimit",
  "activeDeadlineSeconds",
  "ttlSecondsAfterFinished",
]);

/**
 * The trainer's spec file for a TrainingRun: the one place the CRD's spec is translated into
 * the trainer's format. Both use the same camelCase keys, so the translation is: drop the
 * Kubernetes-only fields, and keep of the dataset only how to read it (format, CSV dialect, the
 * S3 endpoint and region); its location is passed as `--data`, because only the pod knows where
 * the volume is mounted, and S3 credentials come from a Secret through the environment.
 */
export function trainerSpecFile(spec: TrainingRunSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) {
    if (!KUBERNETES_ONLY.has(k) && v !== undefined) out[k] = v;
  }
  const reading = datasetReading(spec.dataset);
  if (Object.keys(reading).length) out.dataset = reading;
  return out;
}

/**
 * How the trainer reads the data set, as far as the run says: format (unset, the trainer takes
 * parquet for a name ending in .parquet, else csv), CSV delimiter, S3 endpoint and region.
 */
function datasetReading(ds: TrainingRunSpec["dataset"]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (ds.format !== undefined) out.format = ds.format;
  if (ds.delimiter !== undefined) out.delimiter = ds.delimiter;
  const { endpoint, region } = ds.s3 ?? {};
  if (endpoint || region) out.s3 = { ...(endpoint && { endpoint }), ...(region && { region }) };
  return out;
}

/**
 * The spec file's name in the trainer pod: `.json`, so the trainer reads it as JSON. JSON
 * carries every type exactly; YAML, read by a YAML 1.1 parser, turned an unquoted `Yes` label
 * into a boolean and a `2024-01-01` category into a date.
 */
export const TRAINER_SPEC_FILE_NAME = "spec.json";

/** The spec file's text: the trainer's spec as indented JSON. */
export function renderTrainerSpecFile(spec: TrainingRunSpec): string {
  return `${JSON.stringify(trainerSpecFile(spec), null, 2)}\n`;
}
