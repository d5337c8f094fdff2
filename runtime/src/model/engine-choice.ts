// Which engine scores requests: the compiled TypeScript engine when it reproduces onnxruntime
// (the reference) on the artifact's probe rows and on hostile probe rows, at load; onnxruntime
// otherwise, or when the operator forces it. The verdict says which and why (/readyz, metric).
import type { Reference } from "../artifact/artifact.js";
import type { ModelCard } from "../artifact/model-card.js";
import type { TreeEnsemble } from "../explain/onnx-trees.js";
import { CompiledScorer } from "./compiled-scorer.js";
import { engineProbeRows } from "./engine-probes.js";
import type { ScoreOutput } from "./onnx-scorer.js";
import type { RowScorer } from "./score-batcher.js";

/** The engines the server can score with. */
export const SCORING_ENGINES = ["compiled", "onnxruntime"] as const;
export type ScoringEngine = (typeof SCORING_ENGINES)[number];

/** The setting: `auto` uses the compiled engine when it passes the check. */
export const SCORING_ENGINE_SETTINGS = ["auto", "onnxruntime"] as const;
export type ScoringEngineSetting = (typeof SCORING_ENGINE_SETTINGS)[number];

/** Largest probability difference from onnxruntime the compiled engine may show at load. */
export const ENGINE_TOLERANCE = 1e-6;

/** Which engine serves and why. */
export interface EngineVerdict {
  engine: ScoringEngine;
  reason: string;
  /** Rows the engines were compared on (0 when no comparison ran). */
  rows: number;
  maxProbabilityDiff: number;
  /**
   * The compiled engine's trees: generated code, or the walk over flat arrays where the process
   * forbids code generation from strings (node --disallow-code-generation-from-strings).
   */
  trees?: "generated" | "arrays";
}

/** How two engines' outputs differ: probabilities and the encoded vectors SHAP uses. */
export interface EngineComparison {
  maxProbabilityDiff: number;
  worstRow: number;
  /** First row whose encoded features are not bit-identical, or -1. */
  featureMismatchRow: number;
  featureMismatchColumn: number;
}

/** Compares a candidate's outputs with the reference's on the same rows. */
export function compareOutputs(
  reference: ScoreOutput,
  candidate: ScoreOutput,
  width: number,
): EngineComparison {
  const n = reference.probabilities.length;
  const out: EngineComparison = {
    maxProbabilityDiff: candidate.probabilities.length === n ? 0 : Number.POSITIVE_INFINITY,
    worstRow: -1,
    featureMismatchRow: -1,
    featureMismatchColumn: -1,
  };
  for (let i = 0; i < n && i < candidate.probabilities.length; i++) {
    const d = Math.abs(
      (reference.probabilities[i] as number) - (candidate.probabilities[i] as number),
    );
    if (!(d <= out.maxProbabilityDiff)) {
      out.maxProbabilityDiff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
      out.worstRow = i;
    }
  }
  const a = reference.features;
  const b = candidate.features;
  if (!a || !b || a.length !== b.length) {
    out.featureMismatchRow = 0;
    return out;
  }
  for (let k = 0; k < a.length; k++) {
    if (!Object.is(a[k], b[k]) && !(Number.isNaN(a[k]) && Number.isNaN(b[k]))) {
      out.featureMismatchRow = Math.floor(k / width);
      out.featureMismatchColumn = k % width;
      break;
    }
  }
  return out;
}

/** Picks the serving engine: the compiled one when allowed and it reproduces `reference`. */
export async function chooseEngine(
  setting: ScoringEngineSetting,
  card: ModelCard,
  ensemble: TreeEnsemble,
  reference: RowScorer,
  artifactReference: Reference,
): Promise<{ scorer: RowScorer; compiled: CompiledScorer | undefined; verdict: EngineVerdict }> {
  const fallback = (reason: string, rows = 0, maxProbabilityDiff = Number.NaN) => ({
    scorer: reference,
    compiled: undefined,
    verdict: { engine: "onnxruntime" as const, reason, rows, maxProbabilityDiff },
  });
  if (setting === "onnxruntime") return fallback("forced by the scoring-engine setting");
  let compiled: CompiledScorer;
  try {
    compiled = new CompiledScorer(card, ensemble);
  } catch (err) {
    return fallback(`the compiled engine cannot run this model: ${(err as Error).message}`);
  }
  const rows = [...artifactReference.rows, ...engineProbeRows(card, ensemble)];
  const expected = await reference.score(rows, true);
  const got = compiled.scoreNow(rows, true);
  const cmp = compareOutputs(expected, got, card.features.encoded.length);
  if (cmp.featureMismatchRow >= 0) {
    const column = card.features.encoded[cmp.featureMismatchColumn] ?? "?";
    return fallback(
      `the compiled engine encodes probe row ${cmp.featureMismatchRow} differently from onnxruntime (${column})`,
      rows.length,
      cmp.maxProbabilityDiff,
    );
  }
  if (!(cmp.maxProbabilityDiff <= ENGINE_TOLERANCE)) {
    return fallback(
      `the compiled engine differs from onnxruntime by ${cmp.maxProbabilityDiff.toExponential(2)} on probe row ${cmp.worstRow} (tolerance ${ENGINE_TOLERANCE})`,
      rows.length,
      cmp.maxProbabilityDiff,
    );
  }
  return {
    scorer: compiled,
    compiled,
    verdict: {
      engine: "compiled",
      reason: `reproduces onnxruntime on ${rows.length} probe rows (max |dp| ${cmp.maxProbabilityDiff.toExponential(2)})`,
      rows: rows.length,
      maxProbabilityDiff: cmp.maxProbabilityDiff,
      trees: compiled.treeMode,
    },
  };
}
