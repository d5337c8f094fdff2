import { type ArtifactLocation, parseArtifactUri, pvcArtifactUri } from "../../api/artifact-uri.js";
import type { ChurnModel } from "../../api/churn-model.js";
import type { ScoringRun, ScoringRunStatus } from "../../api/scoring-run.js";

/** The model a run scores with, or why it cannot be named yet. */
export type ScoringModel =
  | { ok: true; model: NonNullable<ScoringRunStatus["model"]>; location: ArtifactLocation }
  | { ok: false; terminal: boolean; message: string };

/**
 * Which model version a ScoringRun uses. Once recorded in status it never changes (a nightly
 * run started before a promotion finishes on the version it started with); before that, an
 * explicit digest names an artifact in the operator's model store, and a ChurnModel reference
 * takes the version it serves as stable at this moment. Pure.
 */
export function resolveScoringModel(
  run: ScoringRun,
  churnModel: ChurnModel | undefined,
  modelStorePvc: string,
): ScoringModel {
  const located = (model: NonNullable<ScoringRunStatus["model"]>): ScoringModel => {
    try {
      return { ok: true, model, location: parseArtifactUri(model.uri) };
    } catch (err) {
      return { ok: false, terminal: true, message: (err as Error).message };
    }
  };
  if (run.status?.model) return located(run.status.model);
  const spec = run.spec.model;
  if (spec.digest) {
    return located({ digest: spec.digest, uri: pvcArtifactUri(modelStorePvc, spec.digest) });
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
