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
  const inputProblem = referenceProblem(card, reference);
  if (inputProblem) {
    result.reason = inputProblem;
    return result;
  }
  const f = card.features.encoded.length;
  const out = await scorer.score(reference.rows, true);
  const n = reference.rows.length;
  const prob = largestDiff(n, (i) =>
    Math.abs((out.probabilities[i] as number) - (reference.probabilities[i] as number)),
  );
  result.maxProbabilityDiff = prob.max;
  const phi = await explain(out.features as Float32Array, n);
  const contribution = { max: 0, row: 0, col: 0 };
  const margin = largestDiff(n, (i) => {
    const sum = compareContributions(
      phi,
      reference.contributions[i] as number[],
      i,
      f,
      contribution,
    );
    // Local accuracy: contributions plus base value are the row's log-odds.
    return Math.abs(sum - (reference.margins[i] as number));
  });
  result.maxContributionDiff = contribution.max;
  result.maxMarginDiff = margin.max;
  const tol = SELF_CHECK_TOLERANCE;
  if (!(prob.max <= tol.probability)) {
    result.reason = `probabilities differ from reference.json by up to ${prob.max.toExponential(2)} (row ${prob.row}; tolerance ${tol.probability})`;
  } else if (!(contribution.max <= tol.contribution)) {
    const name = contribution.col === f ? "bias" : card.features.encoded[contribution.col];
    result.reason = `SHAP contributions differ from xgboost's by up to ${contribution.max.toExponential(2)} (row ${contribution.row}, ${name}; tolerance ${tol.contribution})`;
  } else if (!(margin.max <= tol.margin)) {
    result.reason = `contributions plus base value miss the log-odds by up to ${margin.max.toExponential(2)} (row ${margin.row}; tolerance ${tol.margin})`;
  } else {
    result.passed = true;
  }
  return result;
}

/** Why reference.json cannot be checked against this model, or undefined when it can. */
function referenceProblem(card: ModelCard, reference: Reference): string | undefined {
  const schema = compileValidator(instanceShape(card));
  for (const [i, row] of reference.rows.entries()) {
    if (!schema.accepts(row)) {
      const f = schema.errors(row)[0];
      return `reference row ${i} fails the model's own schema: ${f?.field} ${f?.message}`;
    }
  }
  const f = card.features.encoded.length;
  const bad = reference.contributions.findIndex((c) => c.length !== f + 1);
  if (bad >= 0) {
    return `reference row ${bad} has ${reference.contributions[bad]?.length} contributions, expected ${f + 1} (features + bias)`;
  }
  return undefined;
}

/** The largest of diff(0..n-1) and its row (NaN counts as largest, so it is never hidden). */
function largestDiff(n: number, diff: (i: number) => number): { max: number; row: number } {
  let max = 0;
  let row = 0;
  for (let i = 0; i < n; i++) {
    const d = diff(i);
    if (!(d <= max)) {
      max = d;
      row = i;
    }
  }
  return { max, row };
}

/**
 * Compares row i's f + 1 contributions with the expected ones, raising `worst` where they differ
 * more; returns the row's contribution sum.
 */
function compareContributions(
  phi: Float64Array,
  expected: number[],
  i: number,
  f: number,
  worst: { max: number; row: number; col: number },
): number {
  let sum = 0;
  for (let j = 0; j <= f; j++) {
    const v = phi[i * (f + 1) + j] as number;
    sum += v;
    const d = Math.abs(v - (expected[j] as number));
    if (!(d <= worst.max)) {
      worst.max = d;
      worst.row = i;
      worst.col = j;
    }
  }
  return sum;
}
