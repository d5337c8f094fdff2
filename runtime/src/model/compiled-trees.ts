// The tree ensemble laid out for fast evaluation: every tree padded to one complete binary tree
// of the ensemble's depth, stored heap-style (children of slot i at 2i+1 "true" and 2i+2
// "false") in flat struct-of-arrays, so a walk is a fixed number of compare-and-index steps
// with no leaf test. Sums follow onnxruntime's TreeEnsemble: float32, in tree order.
import { SplitMode, type TreeEnsemble } from "../explain/onnx-trees.js";

/** Deeper trees would make the padded layout too large (2^depth slots per tree). */
export const MAX_COMPILED_DEPTH = 12;

/** Raised when the ensemble uses something the compiled walk does not implement. */
export class CompiledTreesError extends Error {
  override readonly name = "CompiledTreesError";
}

/** The ensemble's margins (base margin plus leaf sum, float32 as onnxruntime adds them). */
export class CompiledTrees {
  readonly depth: number;
  readonly trees: number;
  readonly baseMargin: number;
  /** Per split slot: the feature index times 2, plus 1 when NaN takes the true branch. */
  private readonly split: Int32Array;
  private readonly threshold: Float64Array;
  private readonly leaf: Float64Array;

  constructor(ensemble: TreeEnsemble) {
    for (let i = 0; i < ensemble.mode.length; i++) {
      const m = ensemble.mode[i] as number;
      if (m !== SplitMode.LEAF && m !== SplitMode.BRANCH_LT) {
        throw new CompiledTreesError(`split mode ${m} is not compiled (only BRANCH_LT)`);
      }
    }
    const depth = Math.max(1, ensemble.maxDepth);
    if (depth > MAX_COMPILED_DEPTH) {
      throw new CompiledTreesError(
        `trees are ${depth} levels deep; the compiled walk stops at ${MAX_COMPILED_DEPTH}`,
      );
    }
    this.depth = depth;
    this.trees = ensemble.roots.length;
    this.baseMargin = Math.fround(ensemble.baseMargin);
    const inner = (1 << depth) - 1;
    const leaves = 1 << depth;
    this.split = new Int32Array(this.trees * inner);
    this.threshold = new Float64Array(this.trees * inner);
    this.leaf = new Float64Array(this.trees * leaves);
    const place = (node: number, tree: number, slot: number, level: number): void => {
      const isLeaf = ensemble.mode[node] === SplitMode.LEAF;
      if (level === depth) {
        this.leaf[tree * leaves + slot - inner] = Math.fround(ensemble.value[node] as number);
        return;
      }
      const at = tree * inner + slot;
      if (isLeaf) {
        // A shallow leaf: a dummy split (feature 0, either way) whose subtrees repeat the leaf.
        place(node, tree, 2 * slot + 1, level + 1);
        place(node, tree, 2 * slot + 2, level + 1);
        return;
      }
      this.split[at] =
        2 * (ensemble.feature[node] as number) + (ensemble.missingTrue[node] === 1 ? 1 : 0);
      this.threshold[at] = ensemble.threshold[node] as number;
      place(ensemble.trueChild[node] as number, tree, 2 * slot + 1, level + 1);
      place(ensemble.falseChild[node] as number, tree, 2 * slot + 2, level + 1);
    };
    for (let t = 0; t < this.trees; t++) place(ensemble.roots[t] as number, t, 0, 0);
  }

  /** Margins of `rows` rows of `width` encoded features (row-major) into `out`. */
  margins(x: Float32Array, rows: number, width: number, out: Float64Array): void {
    const split = this.split;
    const threshold = this.threshold;
    const leaf = this.leaf;
    const depth = this.depth;
    const inner = (1 << depth) - 1;
    const leaves = 1 << depth;
    const trees = this.trees;
    const fround = Math.fround;
    for (let r = 0; r < rows; r++) {
      const base = r * width;
      let sum = 0;
      for (let t = 0; t < trees; t++) {
        const first = t * inner;
        let slot = 0;
        for (let level = 0; level < depth; level++) {
          const at = first + slot;
          const key = split[at] as number;
          const v = x[base + (key >> 1)] as number;
          const th = threshold[at] as number;
          // BRANCH_LT: x < t goes to the true child (+1), x >= t to the false one (+2), NaN
          // (false both ways) to its default; without branches, which would mispredict.
          const lt = +(v < th);
          const nan = 1 - lt - +(v >= th);
          slot = 2 * slot + 2 - lt - nan * (key & 1);
        }
        sum = fround(sum + (leaf[t * leaves + slot - inner] as number));
      }
      out[r] = fround(sum + this.baseMargin);
    }
  }
}
