// The load-time self-check: the served graph and the TypeScript TreeSHAP must reproduce the
// trainer's recorded outputs on reference.json's probe rows before the server reports Ready.
import type { Reference } from "../artifact/artifact.js";
import type { ModelCard } from "../artifact/model-card.js";
import { instanceShape } from "../validation/request-rules.js";
import { compileValidator } from "../validation/shape-validator.js";
import type { OnnxScorer } from "./onnx-scorer.js";

/** Tolerances of the self-check (the artifact contract's). */
export const SELF_CHECK_TOLERANCE = {
  probability: 1e-5,
  contribution: 1e-4,
  margin: 1e-4,
} as const;

/** What the self-check measured and whether it passed. */
export interface SelfCheckResult {
  passed: boolean;
  /** Why it failed; "" when it passed. */
  reason: string;
  rows: number;
  maxProbabilityDiff: number;
  maxContributionDiff: number;
  maxMarginDiff: number;
}

/** Runs the probe rows through the scorer and the explainer and compares with the trainer's values. */
export async function runSelfCheck(
  card: ModelCard,
  reference: Reference,
  scorer: OnnxScorer,
  explain: (features: Float32Array, rows: number) => Promise<Float64Array>,
): Promise<SelfCheckResult> {
  const result: SelfCheckResult = {
    passed: false,
    reason: "",
    rows: reference.rows.length,
    maxProbabilityDiff: Number.NaN,
    maxContributionDiff: Number.NaN,
    maxMarginDiff: Number.NaN,
  };
  const schema = compileValidator(instanceShape(card));
  for (const [i, row] of reference.rows.entries()) {
    if (!schema.accepts(row)) {
      const f = schema.errors(row)[0];
      result.reason = `reference row ${i} fails the model's own schema: ${f?.field} ${f?.message}`;
      return result;
    }
  }
  const f = card.features.encoded.length;
  const bad = reference.contributions.findIndex((c) => c.length !== f + 1);
  if (bad >= 0) {
    result.reason = `reference row ${bad} has ${reference.contributions[bad]?.length} contributions, expected ${f + 1} (features + bias)`;
    return result;
  }
  const out = await scorer.score(reference.rows, true);
  const n = reference.rows.length;
  let maxProb = 0;
  let worstProb = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs((out.probabilities[i] as number) - (reference.probabilities[i] as number));
    if (!(d <= maxProb)) {
      maxProb = d;
      worstProb = i;
    }
  }
  result.maxProbabilityDiff = maxProb;
  const phi = await explain(out.features as Float32Array, n);
  let maxContribution = 0;
  let worstContribution = [0, 0];
  let maxMargin = 0;
  let worstMargin = 0;
  for (let i = 0; i < n; i++) {
    const expected = reference.contributions[i] as number[];
    let sum = 0;
    for (let j = 0; j <= f; j++) {
      const v = phi[i * (f + 1) + j] as number;
      sum += v;
      const d = Math.abs(v - (expected[j] as number));
      if (!(d <= maxContribution)) {
        maxContribution = d;
        worstContribution = [i, j];
      }
    }
    // Local accuracy: contributions plus base value are the row's log-odds.
    const marginDiff = Math.abs(sum - (reference.margins[i] as number));
    if (!(marginDiff <= maxMargin)) {
      maxMargin = marginDiff;
      worstMargin = i;
    }
  }
  result.maxContributionDiff = maxContribution;
  result.maxMarginDiff = maxMargin;
  const tol = SELF_CHECK_TOLERANCE;
  if (!(maxProb <= tol.probability)) {
    result.reason = `probabilities differ from reference.json by up to ${maxProb.toExponential(2)} (row ${worstProb}; tolerance ${tol.probability})`;
  } else if (!(maxContribution <= tol.contribution)) {
    const [row, col] = worstContribution;
    const name = col === f ? "bias" : card.features.encoded[col as number];
    result.reason = `SHAP contributions differ from xgboost's by up to ${maxContribution.toExponential(2)} (row ${row}, ${name}; tolerance ${tol.contribution})`;
  } else if (!(maxMargin <= tol.margin)) {
    result.reason = `contributions plus base value miss the log-odds by up to ${maxMargin.toExponential(2)} (row ${worstMargin}; tolerance ${tol.margin})`;
  } else {
    result.passed = true;
  }
  return result;
}
