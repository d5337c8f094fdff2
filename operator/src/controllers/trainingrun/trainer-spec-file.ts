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
 * Kubernetes-only fields, and keep only the CSV dialect of the dataset; its location is passed
 * as `--data`, because only the pod knows where the volume is mounted.
 */
export function trainerSpecFile(spec: TrainingRunSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) {
    if (!KUBERNETES_ONLY.has(k) && v !== undefined) out[k] = v;
  }
  if (spec.dataset.delimiter !== undefined) out.dataset = { delimiter: spec.dataset.delimiter };
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
