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
  /** Trees explained by the recursive algorithm (those too deep for a table). */
  private readonly recursiveRoots: number[] = [];
  private readonly tables: LeafTables;

  constructor(
    ensemble: TreeEnsemble,
    featureCount = ensemble.featureCount,
    options: { maxTableFeatures?: number } = {},
  ) {
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
    this.tables = buildLeafTables(
      ensemble,
      options.maxTableFeatures ?? MAX_TABLE_FEATURES,
      this.recursiveRoots,
    );
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
    this.explainTables(x, phi);
    const roots = this.recursiveRoots;
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

  /** Adds the precomputed leaf contributions for the row's pattern of followed splits. */
  private explainTables(x: ArrayLike<number>, phi: Float64Array): void {
    const tb = this.tables;
    const goes = tb.goesTrue;
    const nodes = tb.splitNodes;
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i] as number;
      goes[n] = takesTrueBranch(
        this.mode[n] as number,
        x[this.feature[n] as number] as number,
        this.threshold[n] as number,
        this.missingTrue[n] as number,
      )
        ? 1
        : 0;
    }
    const condNode = tb.condNode;
    const condDir = tb.condDir;
    const featureStart = tb.featureStart;
    const features = tb.features;
    const table = tb.table;
    for (let leaf = 0; leaf < tb.leafCount; leaf++) {
      const f0 = tb.leafStart[leaf] as number;
      const f1 = tb.leafStart[leaf + 1] as number;
      // Bit j: the row follows this leaf's path at every split on its j-th unique feature.
      let pattern = 0;
      for (let j = f0; j < f1; j++) {
        let follows = 1;
        for (let c = featureStart[j] as number; c < (featureStart[j + 1] as number); c++) {
          if (goes[condNode[c] as number] !== condDir[c]) {
            follows = 0;
            break;
          }
        }
        pattern |= follows << (j - f0);
      }
      const row = (tb.tableStart[leaf] as number) + pattern * (f1 - f0);
      for (let j = f0; j < f1; j++) {
        const f = features[j] as number;
        phi[f] = (phi[f] as number) + (table[row + j - f0] as number);
      }
    }
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

  /** Adds a leaf's share to every feature on the path that reaches it (xgboost's leaf step). */
  private addLeaf(off: number, depth: number, leaf: number): void {
    const p = this.path;
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
      this.addLeaf(off, depth, this.value[node] as number);
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

/**
 * Leaves with at most this many distinct split features get a precomputed table: for each
 * pattern of which of their splits a row follows, the exact SHAP contribution per feature.
 */
export const MAX_TABLE_FEATURES = 5;

/** Precomputed per-leaf contributions (flat arrays; see explainTables). */
interface LeafTables {
  leafCount: number;
  /** Unique features of leaf k are entries leafStart[k]..leafStart[k+1] of `features`. */
  leafStart: Int32Array;
  features: Int32Array;
  /** Splits on unique-feature entry j are conditions featureStart[j]..featureStart[j+1]. */
  featureStart: Int32Array;
  condNode: Int32Array;
  /** 1 when the leaf's path takes the node's true branch. */
  condDir: Uint8Array;
  /** Offset of leaf k's table: 2^U rows of U contributions. */
  tableStart: Int32Array;
  table: Float64Array;
  /** Split nodes of tabled trees, evaluated once per row into `goesTrue`. */
  splitNodes: Int32Array;
  goesTrue: Uint8Array;
}

type Step = { node: number; dir: number };
type LeafPath = { leaf: number; steps: Step[] };

function leafPaths(t: TreeEnsemble, root: number): LeafPath[] {
  const out: LeafPath[] = [];
  const walk = (node: number, steps: Step[]) => {
    if (t.mode[node] === SplitMode.LEAF) {
      out.push({ leaf: node, steps });
      return;
    }
    walk(t.trueChild[node] as number, [...steps, { node, dir: 1 }]);
    walk(t.falseChild[node] as number, [...steps, { node, dir: 0 }]);
  };
  walk(root, []);
  return out;
}

/**
 * Shapley weights w(s, m) = s! (m - s - 1)! / m! for coalitions of size s among m features.
 */
function shapleyWeights(m: number): number[] {
  const fact = [1];
  for (let i = 1; i <= m; i++) fact.push((fact[i - 1] as number) * i);
  return Array.from(
    { length: m },
    (_, s) => ((fact[s] as number) * (fact[m - s - 1] as number)) / (fact[m] as number),
  );
}

/**
 * One leaf's contributions for every pattern of followed splits: with z_j the cover fraction
 * of the path through feature j's splits and o_j in {0, 1} whether the row follows them all,
 * phi_i = v (o_i - z_i) sum_{S in U minus i} w(|S|, |U|) prod_{j in S} o_j prod_{j not in S, j != i} z_j,
 * the closed form of the path-dependent TreeSHAP recursion for a single leaf.
 */
function leafTable(value: number, zero: number[]): Float64Array {
  const m = zero.length;
  const w = shapleyWeights(m);
  const out = new Float64Array((1 << m) * m);
  for (let pattern = 0; pattern < 1 << m; pattern++) {
    for (let i = 0; i < m; i++) {
      const oi = (pattern >> i) & 1;
      const sum = coalitionSum(pattern, i, zero, w);
      out[pattern * m + i] = value * (oi - (zero[i] as number)) * sum;
    }
  }
  return out;
}

/**
 * sum_{S in U minus i} w(|S|, |U|) prod_{j in S} o_j prod_{j not in S, j != i} z_j for one
 * pattern of followed splits (bit j of `pattern` is o_j).
 */
function coalitionSum(pattern: number, i: number, zero: number[], w: number[]): number {
  const m = zero.length;
  let sum = 0;
  for (let subset = 0; subset < 1 << m; subset++) {
    if (subset & (1 << i)) continue;
    let term = 1;
    let size = 0;
    for (let j = 0; j < m && term !== 0; j++) {
      if (j === i) continue;
      if (subset & (1 << j)) {
        size++;
        term *= (pattern >> j) & 1;
      } else {
        term *= zero[j] as number;
      }
    }
    if (term !== 0) sum += (w[size] as number) * term;
  }
  return sum;
}

/** A leaf path's steps grouped by split feature, in first-seen order. */
function stepsByFeature(t: TreeEnsemble, steps: Step[]): Map<number, Step[]> {
  const byFeature = new Map<number, Step[]>();
  for (const step of steps) {
    const f = t.feature[step.node] as number;
    byFeature.set(f, [...(byFeature.get(f) ?? []), step]);
  }
  return byFeature;
}

/** The cover fraction of the path through one feature's splits (z_j). */
function zeroFraction(t: TreeEnsemble, steps: Step[]): number {
  let z = 1;
  for (const { node, dir } of steps) {
    const child = dir === 1 ? t.trueChild[node] : t.falseChild[node];
    z *= (t.cover[child as number] as number) / (t.cover[node] as number);
  }
  return z;
}

/**
 * Appends one leaf's unique features and their split conditions to the flat arrays; returns
 * each feature's zero fraction, in the same order.
 */
function addConditions(
  t: TreeEnsemble,
  byFeature: Map<number, Step[]>,
  out: { features: number[]; featureStart: number[]; condNode: number[]; condDir: number[] },
): number[] {
  const zero: number[] = [];
  for (const [feature, steps] of byFeature) {
    out.features.push(feature);
    for (const { node, dir } of steps) {
      out.condNode.push(node);
      out.condDir.push(dir);
    }
    out.featureStart.push(out.condNode.length);
    zero.push(zeroFraction(t, steps));
  }
  return zero;
}

/** Builds tables for trees whose leaves all have few enough distinct features; lists the rest. */
function buildLeafTables(t: TreeEnsemble, maxFeatures: number, recursive: number[]): LeafTables {
  const leafStart = [0];
  const features: number[] = [];
  const featureStart = [0];
  const condNode: number[] = [];
  const condDir: number[] = [];
  const tableStart: number[] = [];
  const tables: Float64Array[] = [];
  const splitNodes: number[] = [];
  let tableSize = 0;
  for (const root of t.roots) {
    const paths = leafPaths(t, root);
    const grouped = paths.map((p) => ({ leaf: p.leaf, byFeature: stepsByFeature(t, p.steps) }));
    if (grouped.some((g) => g.byFeature.size > maxFeatures)) {
      recursive.push(root);
      continue;
    }
    for (const p of paths) for (const s of p.steps) if (s.dir === 1) splitNodes.push(s.node);
    for (const { leaf, byFeature } of grouped) {
      const zero = addConditions(t, byFeature, { features, featureStart, condNode, condDir });
      leafStart.push(features.length);
      const table = leafTable(t.value[leaf] as number, zero);
      tableStart.push(tableSize);
      tables.push(table);
      tableSize += table.length;
    }
  }
  const table = new Float64Array(tableSize);
  for (const [k, part] of tables.entries()) table.set(part, tableStart[k] as number);
  return {
    leafCount: tableStart.length,
    leafStart: Int32Array.from(leafStart),
    features: Int32Array.from(features),
    featureStart: Int32Array.from(featureStart),
    condNode: Int32Array.from(condNode),
    condDir: Uint8Array.from(condDir),
    tableStart: Int32Array.from(tableStart),
    table,
    splitNodes: Int32Array.from(new Set(splitNodes)),
    goesTrue: new Uint8Array(t.mode.length),
  };
}
