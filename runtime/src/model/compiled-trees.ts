// The tree ensemble laid out for fast evaluation: every tree padded to one complete binary tree
// of the ensemble's depth, stored heap-style (children of slot i at 2i+1 "true" and 2i+2
// "false") in flat struct-of-arrays, so a walk is a fixed number of compare-and-index steps
// with no leaf test. Sums follow onnxruntime's TreeEnsemble: float32, in tree order.
import { codeGenerationAllowed } from "../code-generation.js";
import { SplitMode, type TreeEnsemble } from "../explain/onnx-trees.js";

/**
 * Trees per generated function for small batches: few calls per row (a call to one of many
 * generated functions is not inlined), each function small enough for V8 to optimise.
 */
const TREES_PER_FUNCTION = 16;
/**
 * For large batches: fewer trees per function, so that a function's loop over a block of rows
 * stays small in the instruction cache; rows are taken ROWS_PER_BLOCK at a time (they stay in
 * the data cache while every function runs over them).
 */
const TREES_PER_BLOCK_FUNCTION = 8;
const ROWS_PER_BLOCK = 128;
/** Batches from this many rows use the block functions. */
const BLOCK_MIN_ROWS = 4;

/**
 * A generated run of trees over rows `from` to `to` (exclusive), `w` features each: adds each
 * row's leaves to `sums[r]`, float32, in tree order.
 */
type TreeRun = (x: Float32Array, from: number, to: number, w: number, sums: Float64Array) => void;

/**
 * One tree as a JavaScript expression: nested comparisons with the thresholds and feature
 * offsets as literals, the leaves' values at the ends. NaN fails every comparison, so each
 * split is written so that failing it goes the node's missing-value way.
 */
function treeExpression(t: TreeEnsemble, node: number): string {
  if (t.mode[node] === SplitMode.LEAF) return literal(Math.fround(t.value[node] as number));
  const v = `x[o + ${t.feature[node]}]`;
  const th = literal(t.threshold[node] as number);
  const test = t.missingTrue[node] === 1 ? `!(${v} >= ${th})` : `${v} < ${th}`;
  const yes = treeExpression(t, t.trueChild[node] as number);
  const no = treeExpression(t, t.falseChild[node] as number);
  return `(${test} ? ${yes} : ${no})`;
}

/** Leaves under `node`, left ("true") to right. */
function leavesUnder(t: TreeEnsemble, node: number, out: number[] = []): number[] {
  if (t.mode[node] === SplitMode.LEAF) out.push(node);
  else {
    leavesUnder(t, t.trueChild[node] as number, out);
    leavesUnder(t, t.falseChild[node] as number, out);
  }
  return out;
}

/**
 * One tree as branch-free statements (QuickScorer's idea): leaves are bits of `m`, left to
 * right; every split whose test fails (the row goes right) clears the bits of its left
 * subtree's leaves. The exit leaf is the lowest bit left. Every split is tested, but none is a
 * jump the CPU can mispredict. Needs at most 32 leaves.
 */
function treeBitmask(t: TreeEnsemble, root: number, leafValues: number[]): string {
  const leaves = leavesUnder(t, root);
  const bit = new Map(leaves.map((leaf, i) => [leaf, i]));
  const base = leafValues.length;
  for (const leaf of leaves) leafValues.push(Math.fround(t.value[leaf] as number));
  const lines = ["m = -1;"];
  const visit = (node: number): void => {
    if (t.mode[node] === SplitMode.LEAF) return;
    const left = leavesUnder(t, t.trueChild[node] as number);
    let clear = 0;
    for (const leaf of left) clear |= 1 << (bit.get(leaf) as number);
    const v = `x[o + ${t.feature[node]}]`;
    const th = literal(t.threshold[node] as number);
    // -(true) is -1 (keep every bit); -(false) is -0, which | turns into the mask.
    const go = t.missingTrue[node] === 1 ? `-!(${v} >= ${th})` : `-(${v} < ${th})`;
    lines.push(`m &= ${~clear} | ${go};`);
    visit(t.trueChild[node] as number);
    visit(t.falseChild[node] as number);
  };
  visit(root);
  lines.push(`s = fround(s + leaf[${base} + 31 - clz32(m & -m)]);`);
  return lines.join("\n");
}

/** A number as source text that reads back as exactly the same double. */
function literal(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
  return Object.is(v, -0) ? "-0" : `(${String(v)})`;
}

/** Compiles the trees into functions of `perFunction` trees each. */
function generateRuns(t: TreeEnsemble, maxBitmaskLeaves: number, perFunction: number): TreeRun[] {
  const runs: TreeRun[] = [];
  const limit = Math.min(32, maxBitmaskLeaves);
  const bitmask = Array.from(t.roots).every((r) => leavesUnder(t, r).length <= limit);
  for (let first = 0; first < t.roots.length; first += perFunction) {
    const last = Math.min(t.roots.length, first + perFunction);
    const lines: string[] = [];
    const leafValues: number[] = [];
    for (let k = first; k < last; k++) {
      const root = t.roots[k] as number;
      lines.push(
        bitmask ? treeBitmask(t, root, leafValues) : `s = fround(s + ${treeExpression(t, root)});`,
      );
    }
    const body = `return function trees(x, from, to, w, sums) {
let m = 0;
for (let r = from, o = from * w; r < to; r++, o += w) {
let s = sums[r];
${lines.join("\n")}
sums[r] = s;
}
};`;
    // Only numbers from the parsed model reach the source (literal() and integer indices).
    const make = new Function("fround", "clz32", "leaf", body);
    runs.push(make(Math.fround, Math.clz32, Float64Array.from(leafValues)) as TreeRun);
  }
  return runs;
}

/** Deeper trees would make the padded layout too large (2^depth slots per tree). */
export const MAX_COMPILED_DEPTH = 12;

/** Raised when the ensemble uses something the compiled walk does not implement. */
export class CompiledTreesError extends Error {
  override readonly name = "CompiledTreesError";
}

/** How to compile: tests use these to reach every path. */
export interface CompiledTreesOptions {
  /** false: walk the padded arrays instead of generating code (as where it is switched off). */
  generateCode?: boolean;
  /** Trees with more leaves (32 at most) are generated as nested comparisons. */
  maxBitmaskLeaves?: number;
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
  /** The trees as generated code (see treeBitmask), when code generation is allowed. */
  private readonly runs: TreeRun[] | undefined;
  /** The same code in smaller functions, for batches of BLOCK_MIN_ROWS rows or more. */
  private readonly blockRuns: TreeRun[] | undefined;

  constructor(ensemble: TreeEnsemble, options: CompiledTreesOptions = {}) {
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
    // Without code generation from strings (see code-generation.ts) the arrays are walked.
    const generate = (options.generateCode ?? true) && codeGenerationAllowed;
    const leaves32 = options.maxBitmaskLeaves ?? 32;
    this.runs = generate ? generateRuns(ensemble, leaves32, TREES_PER_FUNCTION) : undefined;
    this.blockRuns = this.runs && generateRuns(ensemble, leaves32, TREES_PER_BLOCK_FUNCTION);
  }

  /** How margins are computed: generated code, or the walk over the padded arrays. */
  get mode(): "generated" | "arrays" {
    return this.runs ? "generated" : "arrays";
  }

  /** Margins of `rows` rows of `width` encoded features (row-major) into `out`. */
  margins(x: Float32Array, rows: number, width: number, out: Float64Array): void {
    const runs = rows >= BLOCK_MIN_ROWS ? this.blockRuns : this.runs;
    if (runs) {
      // Row blocks outer, tree runs inner: a run's code and the block's rows stay in cache.
      // Each row still adds its trees in order, so the sums are the same floats.
      out.fill(0, 0, rows);
      for (let from = 0; from < rows; from += ROWS_PER_BLOCK) {
        const to = Math.min(rows, from + ROWS_PER_BLOCK);
        for (let k = 0; k < runs.length; k++) (runs[k] as TreeRun)(x, from, to, width, out);
      }
      for (let r = 0; r < rows; r++) out[r] = Math.fround((out[r] as number) + this.baseMargin);
      return;
    }
    this.walkArrays(x, rows, width, out);
  }

  /** The same margins from the padded arrays, without generated code. */
  private walkArrays(x: Float32Array, rows: number, width: number, out: Float64Array): void {
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
