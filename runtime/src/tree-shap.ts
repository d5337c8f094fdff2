// Exact path-dependent TreeSHAP (Lundberg et al. 2018, algorithm 2) over a TreeEnsemble, the
// same algorithm xgboost's `pred_contribs` runs: missing values follow each node's default
// direction and the "background" distribution is the training cover stored per node.
import { SplitMode, type TreeEnsemble } from "./onnx-trees.js";

/** Whether a value takes a split node's true branch, ONNX TreeEnsemble semantics. */
function takesTrueBranch(mode: number, x: number, threshold: number, missingTrue: number): boolean {
  if (Number.isNaN(x)) return missingTrue === 1;
  switch (mode) {
    case SplitMode.BRANCH_LT:
      return x < threshold;
    case SplitMode.BRANCH_LEQ:
      return x <= threshold;
    case SplitMode.BRANCH_GT:
      return x > threshold;
    case SplitMode.BRANCH_GTE:
      return x >= threshold;
    case SplitMode.BRANCH_EQ:
      return x === threshold;
    default:
      return x !== threshold;
  }
}

/** Computes SHAP contributions for rows of encoded features; reusable, not thread-safe. */
export class TreeExplainer {
  /** The expected margin over the training distribution: the SHAP base value. */
  readonly baseValue: number;
  readonly featureCount: number;
  private readonly t: TreeEnsemble;
  // The unique path of every recursion level lives in these flat buffers (xgboost's layout).
  private readonly pFeature: Int32Array;
  private readonly pZero: Float64Array;
  private readonly pOne: Float64Array;
  private readonly pWeight: Float64Array;

  constructor(ensemble: TreeEnsemble, featureCount = ensemble.featureCount) {
    if (featureCount < ensemble.featureCount) {
      throw new Error(
        `trees split on feature ${ensemble.featureCount - 1} but only ${featureCount} features are declared`,
      );
    }
    for (let i = 0; i < ensemble.cover.length; i++) {
      if (!((ensemble.cover[i] as number) > 0)) {
        throw new Error(`node ${i} has cover ${ensemble.cover[i]}; TreeSHAP needs positive covers`);
      }
    }
    this.t = ensemble;
    this.featureCount = featureCount;
    // Level k starts after levels 0..k-1, each at most k+1 entries long.
    const d = ensemble.maxDepth + 3;
    const size = (d * (d + 1)) / 2 + d + 8;
    this.pFeature = new Int32Array(size);
    this.pZero = new Float64Array(size);
    this.pOne = new Float64Array(size);
    this.pWeight = new Float64Array(size);
    let base = ensemble.baseMargin;
    for (const root of ensemble.roots) base += this.meanValue(root);
    this.baseValue = base;
  }

  /** Cover-weighted mean leaf value under a node (xgboost's node_mean_values). */
  private meanValue(node: number): number {
    const t = this.t;
    if (t.mode[node] === SplitMode.LEAF) return t.value[node] as number;
    const l = t.trueChild[node] as number;
    const r = t.falseChild[node] as number;
    return (
      (this.meanValue(l) * (t.cover[l] as number) + this.meanValue(r) * (t.cover[r] as number)) /
      (t.cover[node] as number)
    );
  }

  /**
   * Writes one row's contributions into `phi` (length featureCount + 1; the last entry is the
   * base value), so that the entries sum to the row's margin.
   */
  explainRow(x: ArrayLike<number>, phi: Float64Array): void {
    phi.fill(0);
    const t = this.t;
    for (let i = 0; i < t.roots.length; i++) {
      this.recurse(x, phi, t.roots[i] as number, 0, 0, 1, 1, -1);
    }
    phi[this.featureCount] = this.baseValue;
  }

  /** Explains `rows` rows laid out row-major in `x` (featureCount values each). */
  explainBatch(x: ArrayLike<number>, rows: number): Float64Array {
    const f = this.featureCount;
    const out = new Float64Array(rows * (f + 1));
    const row = new Float64Array(f);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < f; j++) row[j] = x[r * f + j] as number;
      this.explainRow(row, out.subarray(r * (f + 1), (r + 1) * (f + 1)));
    }
    return out;
  }

  private extend(off: number, depth: number, zero: number, one: number, feature: number): void {
    const pf = this.pFeature;
    const pz = this.pZero;
    const po = this.pOne;
    const pw = this.pWeight;
    pf[off + depth] = feature;
    pz[off + depth] = zero;
    po[off + depth] = one;
    pw[off + depth] = depth === 0 ? 1 : 0;
    for (let i = depth - 1; i >= 0; i--) {
      pw[off + i + 1] =
        (pw[off + i + 1] as number) + (one * (pw[off + i] as number) * (i + 1)) / (depth + 1);
      pw[off + i] = (zero * (pw[off + i] as number) * (depth - i)) / (depth + 1);
    }
  }

  private unwind(off: number, depth: number, index: number): void {
    const pf = this.pFeature;
    const pz = this.pZero;
    const po = this.pOne;
    const pw = this.pWeight;
    const one = po[off + index] as number;
    const zero = pz[off + index] as number;
    let next = pw[off + depth] as number;
    for (let i = depth - 1; i >= 0; i--) {
      if (one !== 0) {
        const tmp = pw[off + i] as number;
        pw[off + i] = (next * (depth + 1)) / ((i + 1) * one);
        next = tmp - ((pw[off + i] as number) * zero * (depth - i)) / (depth + 1);
      } else {
        pw[off + i] = ((pw[off + i] as number) * (depth + 1)) / (zero * (depth - i));
      }
    }
    for (let i = index; i < depth; i++) {
      pf[off + i] = pf[off + i + 1] as number;
      pz[off + i] = pz[off + i + 1] as number;
      po[off + i] = po[off + i + 1] as number;
    }
  }

  private unwoundSum(off: number, depth: number, index: number): number {
    const pw = this.pWeight;
    const one = this.pOne[off + index] as number;
    const zero = this.pZero[off + index] as number;
    let next = pw[off + depth] as number;
    let total = 0;
    for (let i = depth - 1; i >= 0; i--) {
      if (one !== 0) {
        const tmp = (next * (depth + 1)) / ((i + 1) * one);
        total += tmp;
        next = (pw[off + i] as number) - (tmp * zero * (depth - i)) / (depth + 1);
      } else {
        total += (pw[off + i] as number) / zero / ((depth - i) / (depth + 1));
      }
    }
    return total;
  }

  private recurse(
    x: ArrayLike<number>,
    phi: Float64Array,
    node: number,
    parentOff: number,
    depth: number,
    parentZero: number,
    parentOne: number,
    parentFeature: number,
  ): void {
    const t = this.t;
    // Each level works on its own copy of the parent's path, in the next slice of the buffers.
    const off = parentOff + depth + 1;
    this.pFeature.copyWithin(off, parentOff, off);
    this.pZero.copyWithin(off, parentOff, off);
    this.pOne.copyWithin(off, parentOff, off);
    this.pWeight.copyWithin(off, parentOff, off);
    this.extend(off, depth, parentZero, parentOne, parentFeature);

    if (t.mode[node] === SplitMode.LEAF) {
      const leaf = t.value[node] as number;
      for (let i = 1; i <= depth; i++) {
        const w = this.unwoundSum(off, depth, i);
        const f = this.pFeature[off + i] as number;
        phi[f] =
          (phi[f] as number) +
          w * ((this.pOne[off + i] as number) - (this.pZero[off + i] as number)) * leaf;
      }
      return;
    }

    const split = t.feature[node] as number;
    const goTrue = takesTrueBranch(
      t.mode[node] as number,
      x[split] as number,
      t.threshold[node] as number,
      t.missingTrue[node] as number,
    );
    const hot = goTrue ? (t.trueChild[node] as number) : (t.falseChild[node] as number);
    const cold = goTrue ? (t.falseChild[node] as number) : (t.trueChild[node] as number);
    const w = t.cover[node] as number;
    let inZero = 1;
    let inOne = 1;
    let d = depth;
    // A feature already on the path is unwound so this split can re-add it with combined fractions.
    for (let k = 0; k <= d; k++) {
      if (this.pFeature[off + k] === split) {
        inZero = this.pZero[off + k] as number;
        inOne = this.pOne[off + k] as number;
        this.unwind(off, d, k);
        d -= 1;
        break;
      }
    }
    this.recurse(x, phi, hot, off, d + 1, ((t.cover[hot] as number) / w) * inZero, inOne, split);
    this.recurse(x, phi, cold, off, d + 1, ((t.cover[cold] as number) / w) * inZero, 0, split);
  }
}
