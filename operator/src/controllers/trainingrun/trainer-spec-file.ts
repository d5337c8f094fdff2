import type { TrainingRunSpec } from "../../api/training-run.js";

/** TrainingRun.spec fields that only Kubernetes needs; the trainer never sees them. */
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
 * the trainer's format. The dataset location is passed separately (`--data`), because only
 * the pod knows where the volume is mounted.
 */
export function trainerSpecFile(spec: TrainingRunSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) {
    if (!KUBERNETES_ONLY.has(k) && v !== undefined) out[k] = v;
  }
  return out;
}
