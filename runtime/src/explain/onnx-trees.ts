// Reads the tree ensemble out of model.onnx (the ai.onnx.ml TreeEnsembleClassifier/Regressor
// node) into flat typed arrays that TreeSHAP walks and that can be cloned into worker threads.
import {
  appendDoubles,
  appendFloats,
  appendVarints,
  fieldFloat,
  fieldString,
  type ProtoField,
  readFields,
} from "./protobuf-reader.js";

/** Split modes, numbered for the typed arrays; 0 marks a leaf. */
export const SplitMode = {
  LEAF: 0,
  BRANCH_LT: 1,
  BRANCH_LEQ: 2,
  BRANCH_GT: 3,
  BRANCH_GTE: 4,
  BRANCH_EQ: 5,
  BRANCH_NEQ: 6,
} as const;

/** All trees of the ensemble as parallel arrays indexed by a global node index. */
export interface TreeEnsemble {
  readonly opType: string;
  /** Global index of each tree's root node. */
  readonly roots: Int32Array;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly mode: Uint8Array;
  readonly trueChild: Int32Array;
  readonly falseChild: Int32Array;
  /** 1 when a missing (NaN) value takes the true branch (xgboost's default direction). */
  readonly missingTrue: Uint8Array;
  /** Each node's cover (training hessian sum), from `nodes_hitrates`. */
  readonly cover: Float64Array;
  /** Leaf values in margin (log-odds) space; 0 for internal nodes. */
  readonly value: Float64Array;
  /** The margin added before the post transform (xgboost's base_score as log-odds). */
  readonly baseMargin: number;
  readonly postTransform: string;
  /** One more than the highest feature index any split uses. */
  readonly featureCount: number;
  /** Deepest root-to-leaf edge count over all trees. */
  readonly maxDepth: number;
}

/** Raised when model.onnx holds no usable tree ensemble. */
export class OnnxTreeError extends Error {
  override readonly name = "OnnxTreeError";
}

const TREE_OPS = new Set(["TreeEnsembleClassifier", "TreeEnsembleRegressor"]);

// ONNX field numbers (onnx.proto3).
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const NODE_OP_TYPE = 4;
const NODE_ATTRIBUTE = 5;
const NODE_DOMAIN = 7;
const ATTR_NAME = 1;
const ATTR_F = 2;
const ATTR_I = 3;
const ATTR_S = 4;
const ATTR_T = 5;
const ATTR_FLOATS = 7;
const ATTR_INTS = 8;
const ATTR_STRINGS = 9;
const TENSOR_DATA_TYPE = 2;
const TENSOR_FLOAT_DATA = 4;
const TENSOR_RAW_DATA = 9;
const TENSOR_DOUBLE_DATA = 10;

type AttrValue = { numbers: number[]; strings: string[] };

/** Decodes a TensorProto of floats or doubles (used by the `*_as_tensor` attributes). */
function tensorNumbers(bytes: Uint8Array, start: number, end: number): number[] {
  const out: number[] = [];
  let dataType = 1;
  let raw: ProtoField | undefined;
  for (const f of readFields(bytes, start, end)) {
    if (f.field === TENSOR_DATA_TYPE) dataType = f.varint;
    else if (f.field === TENSOR_FLOAT_DATA) appendFloats(bytes, f, out);
    else if (f.field === TENSOR_DOUBLE_DATA) appendDoubles(bytes, f, out);
    else if (f.field === TENSOR_RAW_DATA) raw = f;
  }
  if (raw) appendRaw(bytes, raw, dataType, out);
  return out;
}

/** Appends a tensor's raw_data: little-endian doubles (data type 11) or floats. */
function appendRaw(bytes: Uint8Array, raw: ProtoField, dataType: number, out: number[]): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset + raw.start, raw.end - raw.start);
  const width = dataType === 11 ? 8 : 4;
  for (let i = 0; i + width <= view.byteLength; i += width) {
    out.push(width === 8 ? view.getFloat64(i, true) : view.getFloat32(i, true));
  }
}

function readAttributes(bytes: Uint8Array, node: ProtoField): Map<string, AttrValue> {
  const attrs = new Map<string, AttrValue>();
  for (const a of readFields(bytes, node.start, node.end)) {
    if (a.field !== NODE_ATTRIBUTE) continue;
    const [name, value] = readAttribute(bytes, a);
    attrs.set(name, value);
  }
  return attrs;
}

/** One AttributeProto: its name and whichever of its number or string fields are set. */
function readAttribute(bytes: Uint8Array, a: ProtoField): [string, AttrValue] {
  let name = "";
  const value: AttrValue = { numbers: [], strings: [] };
  for (const f of readFields(bytes, a.start, a.end)) {
    switch (f.field) {
      case ATTR_NAME:
        name = fieldString(bytes, f);
        break;
      case ATTR_F:
        value.numbers.push(fieldFloat(bytes, f));
        break;
      case ATTR_I:
        value.numbers.push(f.varint);
        break;
      case ATTR_S:
      case ATTR_STRINGS:
        value.strings.push(fieldString(bytes, f));
        break;
      case ATTR_T:
        value.numbers.push(...tensorNumbers(bytes, f.start, f.end));
        break;
      case ATTR_FLOATS:
        appendFloats(bytes, f, value.numbers);
        break;
      case ATTR_INTS:
        appendVarints(bytes, f, value.numbers);
        break;
    }
  }
  return [name, value];
}

/** A NodeProto's op_type and domain. */
function nodeKind(bytes: Uint8Array, n: ProtoField): { opType: string; domain: string } {
  let opType = "";
  let domain = "";
  for (const f of readFields(bytes, n.start, n.end)) {
    if (f.field === NODE_OP_TYPE) opType = fieldString(bytes, f);
    else if (f.field === NODE_DOMAIN) domain = fieldString(bytes, f);
  }
  return { opType, domain };
}

/** Finds the single TreeEnsemble node in the model's main graph and returns its attributes. */
function findTreeNode(bytes: Uint8Array): { opType: string; attrs: Map<string, AttrValue> } {
  const graph = readFields(bytes).find((f) => f.field === MODEL_GRAPH && f.wireType === 2);
  if (!graph) throw new OnnxTreeError("model.onnx has no graph (is it an ONNX ModelProto?)");
  const found: { opType: string; attrs: Map<string, AttrValue> }[] = [];
  for (const n of readFields(bytes, graph.start, graph.end)) {
    if (n.field !== GRAPH_NODE) continue;
    const { opType, domain } = nodeKind(bytes, n);
    if (TREE_OPS.has(opType) && domain === "ai.onnx.ml") {
      found.push({ opType, attrs: readAttributes(bytes, n) });
    }
  }
  if (found.length !== 1) {
    throw new OnnxTreeError(
      `model.onnx must hold exactly one ai.onnx.ml TreeEnsemble node, found ${found.length}`,
    );
  }
  return found[0] as { opType: string; attrs: Map<string, AttrValue> };
}

/** Parses model.onnx bytes into a TreeEnsemble; throws OnnxTreeError naming what is missing. */
export function readTreeEnsemble(bytes: Uint8Array): TreeEnsemble {
  const { opType, attrs } = findTreeNode(bytes);
  const nums = (name: string): number[] => {
    const direct = attrs.get(name)?.numbers ?? [];
    return direct.length > 0 ? direct : (attrs.get(`${name}_as_tensor`)?.numbers ?? []);
  };
  const strs = (name: string): string[] => attrs.get(name)?.strings ?? [];
  const leafPrefix = opType === "TreeEnsembleClassifier" ? "class" : "target";

  const treeIds = nums("nodes_treeids");
  const nodeIds = nums("nodes_nodeids");
  const n = treeIds.length;
  if (n === 0) throw new OnnxTreeError(`${opType} has no nodes`);
  const required: [string, number][] = [
    ["nodes_nodeids", nodeIds.length],
    ["nodes_featureids", nums("nodes_featureids").length],
    ["nodes_values", nums("nodes_values").length],
    ["nodes_modes", strs("nodes_modes").length],
    ["nodes_truenodeids", nums("nodes_truenodeids").length],
    ["nodes_falsenodeids", nums("nodes_falsenodeids").length],
  ];
  for (const [name, len] of required) {
    if (len !== n) throw new OnnxTreeError(`${opType}.${name} has ${len} entries, expected ${n}`);
  }
  const hitrates = nums("nodes_hitrates");
  if (hitrates.length !== n) {
    throw new OnnxTreeError(
      `${opType}.nodes_hitrates has ${hitrates.length} entries, expected ${n} node covers (TreeSHAP needs them)`,
    );
  }
  const missing = nums("nodes_missing_value_tracks_true");
  const featureIds = nums("nodes_featureids");
  const values = nums("nodes_values");
  const modes = strs("nodes_modes");
  const trueIds = nums("nodes_truenodeids");
  const falseIds = nums("nodes_falsenodeids");

  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) index.set(nodeKey(treeIds[i] as number, nodeIds[i] as number), i);
  const nodes = linkNodes(
    { treeIds, nodeIds, featureIds, values, modes, trueIds, falseIds, missing },
    index,
  );
  const { feature, threshold, mode, trueChild, falseChild, missingTrue, featureCount } = nodes;
  const cover = Float64Array.from(hitrates);

  const leafClass = nums(`${leafPrefix}_ids`);
  // Binary classifiers carry one weight column; if both classes have weights, score class 1.
  const classes = new Set(leafClass);
  const positiveClass = classes.size > 1 ? 1 : (leafClass[0] ?? 0);
  const value = leafValues(
    n,
    index,
    {
      trees: nums(`${leafPrefix}_treeids`),
      nodes: nums(`${leafPrefix}_nodeids`),
      weights: nums(`${leafPrefix}_weights`),
      classes: leafClass,
    },
    positiveClass,
  );
  const baseValues = nums("base_values");
  const baseMargin =
    baseValues.length > 1 ? (baseValues[positiveClass] ?? 0) : (baseValues[0] ?? 0);

  const roots = findRoots(treeIds, nodes);
  const maxDepth = deepestLeaf(roots, nodes);

  return {
    opType,
    roots: Int32Array.from(roots),
    feature,
    threshold,
    mode,
    trueChild,
    falseChild,
    missingTrue,
    cover,
    value,
    baseMargin,
    postTransform: strs("post_transform")[0] ?? "NONE",
    featureCount,
    maxDepth,
  };
}

const nodeKey = (tree: number, id: number) => `${tree}:${id}`;

/** The nodes_* attributes, one entry per node. */
interface NodeAttrs {
  treeIds: number[];
  nodeIds: number[];
  featureIds: number[];
  values: number[];
  modes: string[];
  trueIds: number[];
  falseIds: number[];
  missing: number[];
}

/** Split nodes resolved to dense arrays, children as node indices (-1 for leaves). */
interface LinkedNodes {
  feature: Int32Array;
  threshold: Float64Array;
  mode: Uint8Array;
  trueChild: Int32Array;
  falseChild: Int32Array;
  missingTrue: Uint8Array;
  featureCount: number;
}

/** Decodes each node's mode and split, and resolves (tree, node id) children to indices. */
function linkNodes(a: NodeAttrs, index: Map<string, number>): LinkedNodes {
  const n = a.treeIds.length;
  const out: LinkedNodes = {
    feature: new Int32Array(n),
    threshold: new Float64Array(n),
    mode: new Uint8Array(n),
    trueChild: new Int32Array(n).fill(-1),
    falseChild: new Int32Array(n).fill(-1),
    missingTrue: new Uint8Array(n),
    featureCount: 0,
  };
  for (let i = 0; i < n; i++) {
    const m = a.modes[i] as string;
    const code = SplitMode[m as keyof typeof SplitMode];
    if (code === undefined) throw new OnnxTreeError(`unsupported node mode ${m}`);
    out.mode[i] = code;
    if (code === SplitMode.LEAF) continue;
    out.feature[i] = a.featureIds[i] as number;
    out.featureCount = Math.max(out.featureCount, (a.featureIds[i] as number) + 1);
    out.threshold[i] = a.values[i] as number;
    out.missingTrue[i] = (a.missing[i] ?? 0) !== 0 ? 1 : 0;
    const t = a.treeIds[i] as number;
    const tc = index.get(nodeKey(t, a.trueIds[i] as number));
    const fc = index.get(nodeKey(t, a.falseIds[i] as number));
    if (tc === undefined || fc === undefined) {
      throw new OnnxTreeError(
        `tree ${t} node ${a.nodeIds[i]} points to a child that does not exist`,
      );
    }
    out.trueChild[i] = tc;
    out.falseChild[i] = fc;
  }
  return out;
}

/** Sums the positive class's leaf weights onto their nodes. */
function leafValues(
  n: number,
  index: Map<string, number>,
  leaves: { trees: number[]; nodes: number[]; weights: number[]; classes: number[] },
  positiveClass: number,
): Float64Array {
  const value = new Float64Array(n);
  for (let i = 0; i < leaves.weights.length; i++) {
    if ((leaves.classes[i] ?? 0) !== positiveClass) continue;
    const node = index.get(nodeKey(leaves.trees[i] as number, leaves.nodes[i] as number));
    if (node === undefined) throw new OnnxTreeError(`leaf weight ${i} names an unknown node`);
    value[node] = (value[node] as number) + (leaves.weights[i] as number);
  }
  return value;
}

/** Roots are nodes no other node points to, in tree-id order; one per tree. */
function findRoots(treeIds: number[], nodes: LinkedNodes): number[] {
  const n = treeIds.length;
  const isChild = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (nodes.mode[i] !== SplitMode.LEAF) {
      isChild[nodes.trueChild[i] as number] = 1;
      isChild[nodes.falseChild[i] as number] = 1;
    }
  }
  const roots: number[] = [];
  for (let i = 0; i < n; i++) if (!isChild[i]) roots.push(i);
  roots.sort((a, b) => (treeIds[a] as number) - (treeIds[b] as number));
  if (roots.length !== new Set(treeIds).size) {
    throw new OnnxTreeError(`found ${roots.length} roots for ${new Set(treeIds).size} trees`);
  }
  return roots;
}

/** The depth of the deepest leaf; refuses trees deeper than 64 levels (or cyclic). */
function deepestLeaf(roots: number[], nodes: LinkedNodes): number {
  let maxDepth = 0;
  const stack: [number, number][] = roots.map((r) => [r, 0]);
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [number, number];
    if (depth > 64) throw new OnnxTreeError("tree deeper than 64 levels (or cyclic)");
    if (nodes.mode[node] === SplitMode.LEAF) {
      maxDepth = Math.max(maxDepth, depth);
      continue;
    }
    stack.push(
      [nodes.trueChild[node] as number, depth + 1],
      [nodes.falseChild[node] as number, depth + 1],
    );
  }
  return maxDepth;
}
