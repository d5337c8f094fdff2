import { isS3ArtifactUri, parseArtifactUri, parseS3ArtifactUri } from "../../api/artifact-uri.js";
import type { ChurnModel } from "../../api/churn-model.js";
import type { ScoringRun, ScoringRunStatus } from "../../api/scoring-run.js";
import type { S3ModelStore } from "../../config/s3-model-store.js";
import { s3AccessOf } from "../shared/s3-artifact-fetch.js";
import { trainedArtifactUri } from "../trainingrun/build-training-job.js";
import type { ScoringModelLocation } from "./build-scoring-job.js";

/** The operator's model stores: the PVC, and the S3 store when configured. */
export interface ModelStores {
  modelStorePvc: string;
  modelStoreS3?: S3ModelStore | undefined;
}

/** The model a run scores with, or why it cannot be named yet. */
export type ScoringModel =
  | { ok: true; model: NonNullable<ScoringRunStatus["model"]>; location: ScoringModelLocation }
  | { ok: false; terminal: boolean; message: string };

/**
 * Which model version a ScoringRun uses. Once recorded in status it never changes (a nightly
 * run started before a promotion finishes on the version it started with); before that, an
 * explicit digest names an artifact in the operator's model store (S3 when configured, else the
 * PVC), and a ChurnModel reference
 * takes the version it serves as stable at this moment. Pure.
 */
export function resolveScoringModel(
  run: ScoringRun,
  churnModel: ChurnModel | undefined,
  stores: ModelStores,
): ScoringModel {
  const located = (model: NonNullable<ScoringRunStatus["model"]>): ScoringModel => {
    try {
      if (!isS3ArtifactUri(model.uri))
        return { ok: true, model, location: parseArtifactUri(model.uri) };
      parseS3ArtifactUri(model.uri, model.digest);
      const access = s3AccessOf(churnModel, model.uri, stores.modelStoreS3);
      return { ok: true, model, location: { scheme: "s3", uri: model.uri, access } };
    } catch (err) {
      return { ok: false, terminal: true, message: (err as Error).message };
    }
  };
  if (run.status?.model) return located(run.status.model);
  const spec = run.spec.model;
  if (spec.digest) {
    return located({ digest: spec.digest, uri: trainedArtifactUri(stores, spec.digest) });
  }
  const name = spec.churnModelRef?.name ?? "";
  if (!churnModel) {
    return { ok: false, terminal: false, message: `ChurnModel ${name} not found` };
  }
  const stable = churnModel.status?.rollout?.stable ?? churnModel.status?.serving;
  if (!stable) {
    return { ok: false, terminal: false, message: `ChurnModel ${name} serves no version yet` };
  }
  return located({ digest: stable.digest, uri: stable.uri, churnModel: name });
}
