import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SplitMode, type TreeEnsemble } from "./onnx-trees.js";
import { TreeExplainer } from "./tree-shap.js";

interface RandomNode {
  feature: number;
  threshold: number;
  missingTrue: boolean;
  value: number;
  cover: number;
  children?: [RandomNode, RandomNode];
}

/** A random tree whose covers add up like xgboost's (parent = sum of children). */
function randomTree(rand: () => number, features: number, depth: number): RandomNode {
  if (depth === 0 || rand() < 0.2) {
    return {
      feature: 0,
      threshold: 0,
      missingTrue: false,
      value: rand() * 2 - 1,
      cover: 1 + rand() * 50,
    };
  }
  const l = randomTree(rand, features, depth - 1);
  const r = randomTree(rand, features, depth - 1);
  return {
    // Few features so that paths revisit a feature, exercising the unwind step.
    feature: Math.floor(rand() * features),
    threshold: Math.round((rand() * 2 - 1) * 4) / 4,
    missingTrue: rand() < 0.5,
    value: 0,
    cover: l.cover + r.cover,
    children: [l, r],
  };
}

function flatten(trees: RandomNode[], baseMargin: number, features: number): TreeEnsemble {
  const nodes: RandomNode[] = [];
  const roots: number[] = [];
  const trueChild: number[] = [];
  const falseChild: number[] = [];
  let maxDepth = 0;
  const visit = (n: RandomNode, depth: number): number => {
    const i = nodes.length;
    nodes.push(n);
    trueChild.push(-1);
    falseChild.push(-1);
    maxDepth = Math.max(maxDepth, depth);
    if (n.children) {
      trueChild[i] = visit(n.children[0], depth + 1);
      falseChild[i] = visit(n.children[1], depth + 1);
    }
    return i;
  };
  for (const t of trees) roots.push(visit(t, 0));
  return {
    opType: "TreeEnsembleRegressor",
    roots: Int32Array.from(roots),
    feature: Int32Array.from(nodes.map((n) => n.feature)),
    threshold: Float64Array.from(nodes.map((n) => n.threshold)),
    mode: Uint8Array.from(nodes.map((n) => (n.children ? SplitMode.BRANCH_LT : SplitMode.LEAF))),
    trueChild: Int32Array.from(trueChild),
    falseChild: Int32Array.from(falseChild),
    missingTrue: Uint8Array.from(nodes.map((n) => (n.missingTrue ? 1 : 0))),
    cover: Float64Array.from(nodes.map((n) => n.cover)),
    value: Float64Array.from(nodes.map((n) => n.value)),
    baseMargin,
    postTransform: "LOGISTIC",
    featureCount: features,
    maxDepth,
  };
}

/** E[f(x) | x_S] with the path-dependent (cover-weighted) background, straight from the definition. */
function conditional(n: RandomNode, x: number[], known: Set<number>): number {
  if (!n.children) return n.value;
  const [l, r] = n.children;
  if (known.has(n.feature)) {
    const v = x[n.feature] as number;
    const goLeft = Number.isNaN(v) ? n.missingTrue : v < n.threshold;
    return conditional(goLeft ? l : r, x, known);
  }
  return (conditional(l, x, known) * l.cover + conditional(r, x, known) * r.cover) / n.cover;
}

function factorial(k: number): number {
  return k <= 1 ? 1 : k * factorial(k - 1);
}

/** Shapley values by enumerating every coalition: exponential, fine for a handful of features. */
function bruteForce(trees: RandomNode[], x: number[], m: number): number[] {
  const value = (s: Set<number>) => trees.reduce((acc, t) => acc + conditional(t, x, s), 0);
  const phi = new Array<number>(m).fill(0);
  for (let i = 0; i < m; i++) {
    for (let mask = 0; mask < 1 << m; mask++) {
      if (mask & (1 << i)) continue;
      const s = new Set<number>();
      for (let j = 0; j < m; j++) if (mask & (1 << j)) s.add(j);
      const weight = (factorial(s.size) * factorial(m - s.size - 1)) / factorial(m);
      const without = value(s);
      s.add(i);
      phi[i] = (phi[i] as number) + weight * (value(s) - without);
    }
  }
  return phi;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("TreeExplainer", () => {
  it.each([
    ["precomputed leaf tables", undefined],
    ["the recursive algorithm", 0],
  ])(
    "matches brute-force Shapley values of the path-dependent expectation (%s)",
    (_, maxTableFeatures) => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 2 ** 31 }), (seed) => {
          const rand = mulberry32(seed);
          const m = 2 + Math.floor(rand() * 4);
          const trees = Array.from({ length: 1 + Math.floor(rand() * 4) }, () =>
            randomTree(rand, m, 1 + Math.floor(rand() * 5)),
          );
          const base = rand() - 0.5;
          const explainer = new TreeExplainer(flatten(trees, base, m), m, { maxTableFeatures });
          const x = Array.from({ length: m }, () =>
            rand() < 0.2 ? Number.NaN : Math.round((rand() * 2 - 1) * 8) / 8,
          );
          const phi = new Float64Array(m + 1);
          explainer.explainRow(x, phi);
          const expected = bruteForce(trees, x, m);
          for (let i = 0; i < m; i++) expect(phi[i]).toBeCloseTo(expected[i] as number, 9);
          const none = trees.reduce((acc, t) => acc + conditional(t, x, new Set()), 0);
          expect(phi[m]).toBeCloseTo(base + none, 9);
          // Local accuracy: contributions plus base value equal the prediction.
          const all = new Set(Array.from({ length: m }, (_, i) => i));
          const margin = base + trees.reduce((acc, t) => acc + conditional(t, x, all), 0);
          expect(phi.reduce((a, b) => a + b, 0)).toBeCloseTo(margin, 9);
        }),
        { numRuns: 200 },
      );
    },
  );

  it("mixes tabled and recursive trees in one ensemble", () => {
    const rand = mulberry32(99);
    const m = 7;
    const trees = Array.from({ length: 6 }, (_, i) => randomTree(rand, m, i < 3 ? 2 : 7));
    const ensemble = flatten(trees, 0.1, m);
    const mixed = new TreeExplainer(ensemble, m, { maxTableFeatures: 3 });
    const recursive = new TreeExplainer(ensemble, m, { maxTableFeatures: 0 });
    for (let r = 0; r < 20; r++) {
      const x = Array.from({ length: m }, () => (rand() < 0.1 ? Number.NaN : rand() * 2 - 1));
      const a = new Float64Array(m + 1);
      const b = new Float64Array(m + 1);
      mixed.explainRow(x, a);
      recursive.explainRow(x, b);
      for (let i = 0; i <= m; i++) expect(a[i]).toBeCloseTo(b[i] as number, 10);
    }
  });

  it("refuses trees without positive covers", () => {
    const rand = mulberry32(1);
    const tree = randomTree(rand, 3, 3);
    const ensemble = flatten([tree], 0, 3);
    ensemble.cover.fill(0);
    expect(() => new TreeExplainer(ensemble, 3)).toThrow(/cover/);
  });
});
