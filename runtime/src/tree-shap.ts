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
  // Hot arrays hoisted out of the ensemble object to keep the recursion's loads short.
  private readonly feature: Int32Array;
  private readonly threshold: Float64Array;
  private readonly mode: Uint8Array;
  private readonly trueChild: Int32Array;
  private readonly falseChild: Int32Array;
  private readonly missingTrue: Uint8Array;
  private readonly cover: Float64Array;
  private readonly value: Float64Array;
  /**
   * The unique path of every recursion level, in xgboost's layout: level k's path starts where
   * its parent's ends. Four slots per element: feature, zero fraction, one fraction, weight.
   */
  private readonly path: Float64Array;
  private x: ArrayLike<number> = [];
  private phi: Float64Array = new Float64Array(0);

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
    this.feature = ensemble.feature;
    this.threshold = ensemble.threshold;
    this.mode = ensemble.mode;
    this.trueChild = ensemble.trueChild;
    this.falseChild = ensemble.falseChild;
    this.missingTrue = ensemble.missingTrue;
    this.cover = ensemble.cover;
    this.value = ensemble.value;
    this.featureCount = featureCount;
    // Level k starts after levels 0..k-1, each at most k+1 entries long.
    const d = ensemble.maxDepth + 3;
    this.path = new Float64Array(4 * ((d * (d + 1)) / 2 + d + 8));
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
    this.x = x;
    this.phi = phi;
    const roots = this.t.roots;
    for (let i = 0; i < roots.length; i++) this.recurse(roots[i] as number, 0, 0, 1, 1, -1);
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

  /** Adds an element to the path at `depth`, updating the permutation weights (ExtendPath). */
  private extend(off: number, depth: number, zero: number, one: number, feature: number): void {
    const p = this.path;
    const e = off + depth * 4;
    p[e] = feature;
    p[e + 1] = zero;
    p[e + 2] = one;
    p[e + 3] = depth === 0 ? 1 : 0;
    for (let i = depth - 1; i >= 0; i--) {
      const w = off + i * 4 + 3;
      p[w + 4] = (p[w + 4] as number) + (one * (p[w] as number) * (i + 1)) / (depth + 1);
      p[w] = (zero * (p[w] as number) * (depth - i)) / (depth + 1);
    }
  }

  /** Removes the element at `index` from the path, undoing its weight update (UnwindPath). */
  private unwind(off: number, depth: number, index: number): void {
    const p = this.path;
    const one = p[off + index * 4 + 2] as number;
    const zero = p[off + index * 4 + 1] as number;
    let next = p[off + depth * 4 + 3] as number;
    for (let i = depth - 1; i >= 0; i--) {
      const w = off + i * 4 + 3;
      if (one !== 0) {
        const tmp = p[w] as number;
        p[w] = (next * (depth + 1)) / ((i + 1) * one);
        next = tmp - ((p[w] as number) * zero * (depth - i)) / (depth + 1);
      } else {
        p[w] = ((p[w] as number) * (depth + 1)) / (zero * (depth - i));
      }
    }
    for (let i = index; i < depth; i++) {
      const a = off + i * 4;
      p[a] = p[a + 4] as number;
      p[a + 1] = p[a + 5] as number;
      p[a + 2] = p[a + 6] as number;
    }
  }

  private recurse(
    node: number,
    parentOff: number,
    depth: number,
    parentZero: number,
    parentOne: number,
    parentFeature: number,
  ): void {
    const p = this.path;
    // Each level works on its own copy of the parent's path, in the next slice of the buffer.
    const off = parentOff + (depth + 1) * 4;
    for (let i = 0; i < depth * 4; i++) p[off + i] = p[parentOff + i] as number;
    this.extend(off, depth, parentZero, parentOne, parentFeature);

    if (this.mode[node] === SplitMode.LEAF) {
      const leaf = this.value[node] as number;
      const phi = this.phi;
      const top = p[off + depth * 4 + 3] as number;
      for (let k = 1; k <= depth; k++) {
        // UnwoundPathSum: the path's total weight with element k removed.
        const e = off + k * 4;
        const zero = p[e + 1] as number;
        const one = p[e + 2] as number;
        let next = top;
        let total = 0;
        for (let i = depth - 1; i >= 0; i--) {
          const w = p[off + i * 4 + 3] as number;
          if (one !== 0) {
            const tmp = (next * (depth + 1)) / ((i + 1) * one);
            total += tmp;
            next = w - (tmp * zero * (depth - i)) / (depth + 1);
          } else {
            total += (w / zero) * ((depth + 1) / (depth - i));
          }
        }
        const f = p[e] as number;
        phi[f] = (phi[f] as number) + total * (one - zero) * leaf;
      }
      return;
    }

    const split = this.feature[node] as number;
    const goTrue = takesTrueBranch(
      this.mode[node] as number,
      this.x[split] as number,
      this.threshold[node] as number,
      this.missingTrue[node] as number,
    );
    const hot = goTrue ? (this.trueChild[node] as number) : (this.falseChild[node] as number);
    const cold = goTrue ? (this.falseChild[node] as number) : (this.trueChild[node] as number);
    const w = this.cover[node] as number;
    let inZero = 1;
    let inOne = 1;
    let d = depth;
    // A feature already on the path is unwound so this split can re-add it with combined fractions.
    for (let k = 0; k <= d; k++) {
      if (p[off + k * 4] === split) {
        inZero = p[off + k * 4 + 1] as number;
        inOne = p[off + k * 4 + 2] as number;
        this.unwind(off, d, k);
        d -= 1;
        break;
      }
    }
    this.recurse(hot, off, d + 1, ((this.cover[hot] as number) / w) * inZero, inOne, split);
    this.recurse(cold, off, d + 1, ((this.cover[cold] as number) / w) * inZero, 0, split);
  }
}
