import { checkArtifactUri } from "../../api/artifact-uri.js";
import type { ChurnModel } from "../../api/churn-model.js";
import { findCondition } from "../../api/condition.js";
import { ConditionTypes } from "../../api/condition-types.js";
import { type Reason, Reasons } from "../../api/reasons.js";
import type { TrainingRun } from "../../api/training-run.js";
import { matchesSelector } from "../shared/label-selector.js";

/** A model version that can be served. */
export interface ServableVersion {
  digest: string;
  uri: string;
  trainingRun?: string;
}

/** The outcome of resolving a ChurnModel's source. */
export type SourceResolution =
  | { state: "resolved"; version: ServableVersion; reason: Reason; message: string }
  | { state: "waiting" | "failed"; reason: Reason; message: string };

/** Whether a run finished with every gate passed and an artifact to serve. */
export function isServable(run: TrainingRun): boolean {
  const s = run.status;
  return (
    s?.phase === "Succeeded" &&
    s.model !== undefined &&
    findCondition(s.conditions, ConditionTypes.ModelValidated)?.status === "True"
  );
}

/** Whether a run is a candidate of a ChurnModel's latestFrom source. */
export function isCandidate(model: ChurnModel, run: TrainingRun): boolean {
  if (run.metadata?.namespace !== model.metadata?.namespace) return false;
  const latest = model.spec.source.latestFrom;
  if (!latest) return false;
  if (run.spec.modelRef?.name === model.metadata?.name) return true;
  return latest.selector !== undefined && matchesSelector(run.metadata?.labels, latest.selector);
}

/**
 * Resolves a ChurnModel's source to the version to serve, from the TrainingRuns in its
 * namespace. Pure: newest means latest completionTime, then creation time, then name.
 */
export function resolveSource(model: ChurnModel, runs: readonly TrainingRun[]): SourceResolution {
  const src = model.spec.source;
  if (src.artifact) {
    try {
      checkArtifactUri(src.artifact.uri, src.artifact.digest);
    } catch (err) {
      return { state: "failed", reason: Reasons.InvalidSpec, message: (err as Error).message };
    }
    return {
      state: "resolved",
      version: { digest: src.artifact.digest, uri: src.artifact.uri },
      reason: Reasons.SourceResolved,
      message: `artifact ${src.artifact.digest.slice(0, 12)}`,
    };
  }
  if (src.trainingRun) {
    const name = src.trainingRun.name;
    const run = runs.find(
      (r) => r.metadata?.name === name && r.metadata?.namespace === model.metadata?.namespace,
    );
    if (!run) {
      return {
        state: "waiting",
        reason: Reasons.SourceNotFound,
        message: `TrainingRun ${name} not found`,
      };
    }
    if (run.status?.phase === "Failed") {
      return {
        state: "failed",
        reason: Reasons.SourceFailed,
        message: `TrainingRun ${name} failed: ${run.status.message ?? "see its status"}`,
      };
    }
    if (!isServable(run)) {
      return {
        state: "waiting",
        reason: Reasons.SourceNotReady,
        message: `TrainingRun ${name} is ${run.status?.phase ?? "Pending"}`,
      };
    }
    return resolvedFrom(run);
  }
  if (src.latestFrom) {
    const candidates = runs.filter((r) => isCandidate(model, r) && isServable(r));
    const newest = [...candidates].sort(newestFirst)[0];
    if (!newest) {
      return {
        state: "waiting",
        reason: Reasons.NoCandidate,
        message: "no Succeeded TrainingRun matches source.latestFrom yet",
      };
    }
    return resolvedFrom(newest);
  }
  return {
    state: "failed",
    reason: Reasons.InvalidSpec,
    message: "set exactly one of source.trainingRun, source.latestFrom, source.artifact",
  };
}

function resolvedFrom(run: TrainingRun): SourceResolution {
  const model = run.status?.model;
  if (!model) throw new Error("resolvedFrom: run has no model");
  return {
    state: "resolved",
    version: { digest: model.digest, uri: model.uri, trainingRun: run.metadata?.name },
    reason: Reasons.SourceResolved,
    message: `TrainingRun ${run.metadata?.name} (model ${model.digest.slice(0, 12)})`,
  };
}

function newestFirst(a: TrainingRun, b: TrainingRun): number {
  const key = (r: TrainingRun) => [
    String(r.status?.completionTime ?? ""),
    String(r.metadata?.creationTimestamp ?? ""),
    r.metadata?.name ?? "",
  ];
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i]) return (ka[i] as string) < (kb[i] as string) ? 1 : -1;
  }
  return 0;
}
