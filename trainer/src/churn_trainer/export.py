"""ONNX export: one graph from raw columns to probability, preprocessing and trees inside.

The preprocessing sub-graph is built first and also used (through onnxruntime) to encode the
training data, so xgboost sees exactly the float32 matrix the served graph produces. The trees
are written straight from xgboost's JSON model (not through a converter) so that node ids,
float32 thresholds, default directions and covers (`nodes_hitrates`) map one-to-one.
onnxmltools' converter renumbers node ids and writes no covers for classifiers; it serves as the
test oracle instead (docs/artifact.md, "Why not onnxmltools directly").
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import xgboost as xgb
from onnx import TensorProto, helper, numpy_helper

from .calibrate import Calibration
from .encode import UNSEEN, Encoder, encoded_names

ONNX_OPSET = 17
ML_OPSET = 3  # ai.onnx.ml 3: TreeEnsembleClassifier v3 (nodes_hitrates), LabelEncoder v2
IR_VERSION = 8
PRODUCER = "churn-trainer"
ENCODE_BATCH_ROWS = 200_000
INTERNAL = "_churn_"  # prefix of internal tensor names, so no input column can collide


@dataclass
class Trees:
    """xgboost's trees flattened in TreeEnsemble attribute order."""

    attrs: dict[str, Any]
    base_margin: float
    n_trees: int
    n_nodes: int


def _ml_node(op: str, inputs: list[str], outputs: list[str], name: str, **attrs) -> onnx.NodeProto:
    return helper.make_node(op, inputs, outputs, name=name, domain="ai.onnx.ml", **attrs)


# the nodes and initializers one encoder adds to the graph
Nodes = tuple[list[onnx.NodeProto], list[onnx.TensorProto]]


def _passthrough_nodes(enc: Encoder, p: str) -> Nodes:
    """A number as it is, or with missing (NaN) replaced by the imputed value."""
    name = enc.feature.name
    if enc.impute_value is None:
        return [helper.make_node("Identity", [name], [f"{p}_enc"], name=f"{p}_id")], []
    fill = np.array([[enc.impute_value]], dtype=np.float32)
    nodes = [
        helper.make_node("IsNaN", [name], [f"{p}_nan"], name=f"{p}_isnan"),
        helper.make_node(
            "Where", [f"{p}_nan", f"{p}_fill", name], [f"{p}_enc"], name=f"{p}_impute"
        ),
    ]
    return nodes, [numpy_helper.from_array(fill, f"{p}_fill")]


def _label_map(enc: Encoder, values: list[Any], impute: Any) -> tuple[list[str], list[Any]]:
    """LabelEncoder keys and values: each category to its value and, when the feature is
    imputed, missing ("") to the imputed category's value."""
    cats = list(enc.categories or [])
    if enc.impute_value is None:
        return cats, values
    return [*cats, ""], [*values, impute]


def _label_encoder(
    enc: Encoder, out: str, name: str, keys: list[str], **values_and_default: Any
) -> onnx.NodeProto:
    """A LabelEncoder reading the feature's raw column."""
    return _ml_node(
        "LabelEncoder", [enc.feature.name], [out], name, keys_strings=keys, **values_and_default
    )


def _ordinal_nodes(enc: Encoder, p: str) -> Nodes:
    """A category as its index in the declared order; unseen and missing as NaN."""
    cats = list(enc.categories or [])
    impute = None if enc.impute_value is None else float(cats.index(str(enc.impute_value)))
    keys, vals = _label_map(enc, [float(k) for k in range(len(cats))], impute)
    out, name = f"{p}_enc", f"{p}_ordinal"
    node = _label_encoder(enc, out, name, keys, values_floats=vals, default_float=math.nan)
    return [node], []


def _one_hot_nodes(enc: Encoder, p: str) -> Nodes:
    """One column per category. Known categories map to themselves, missing to the imputed
    level (if any), anything else to a sentinel that OneHotEncoder (zeros=1) turns into all
    zeros."""
    cats = list(enc.categories or [])
    keys, vals = _label_map(enc, list(cats), str(enc.impute_value))
    nodes = [
        _label_encoder(
            enc, f"{p}_known", f"{p}_known", keys, values_strings=vals, default_string=UNSEEN
        ),
        _ml_node(
            "OneHotEncoder", [f"{p}_known"], [f"{p}_3d"], f"{p}_onehot", cats_strings=cats, zeros=1
        ),
        helper.make_node("Reshape", [f"{p}_3d", f"{p}_shape"], [f"{p}_enc"], name=f"{p}_2d"),
    ]
    shape = numpy_helper.from_array(np.array([-1, len(cats)], dtype=np.int64), f"{p}_shape")
    return nodes, [shape]


# Encoder.kind -> the nodes that encode one raw feature into its `{p}_enc` columns
ENCODER_NODES = {
    "passthrough": _passthrough_nodes,
    "ordinal": _ordinal_nodes,
    "onehot": _one_hot_nodes,
}


def preprocessing_graph(encoders: list[Encoder]) -> tuple[list, list, list, str]:
    """(nodes, inputs, initializers, output name) for raw columns -> encoded `features`."""
    nodes: list[onnx.NodeProto] = []
    inputs: list[onnx.ValueInfoProto] = []
    inits: list[onnx.TensorProto] = []
    parts: list[str] = []
    for i, enc in enumerate(encoders):
        p = f"{INTERNAL}pre{i}"
        elem = TensorProto.FLOAT if enc.kind == "passthrough" else TensorProto.STRING
        inputs.append(helper.make_tensor_value_info(enc.feature.name, elem, ["N", 1]))
        enc_nodes, enc_inits = ENCODER_NODES[enc.kind](enc, p)
        nodes.extend(enc_nodes)
        inits.extend(enc_inits)
        parts.append(f"{p}_enc")

    nodes.append(helper.make_node("Concat", parts, ["features"], name="concat_features", axis=1))
    return nodes, inputs, inits, "features"


def _model(graph: onnx.GraphProto, doc: str) -> onnx.ModelProto:
    model = helper.make_model(
        graph,
        opset_imports=[
            helper.make_opsetid("", ONNX_OPSET),
            helper.make_opsetid("ai.onnx.ml", ML_OPSET),
        ],
        producer_name=PRODUCER,
        producer_version="1",
        ir_version=IR_VERSION,
        doc_string=doc,
    )
    onnx.checker.check_model(model, full_check=True)
    return model


def preprocessing_model(encoders: list[Encoder]) -> onnx.ModelProto:
    """Raw columns -> `features` only; used to encode the training data."""
    nodes, inputs, inits, out = preprocessing_graph(encoders)
    n = len(encoded_names(encoders))
    output = helper.make_tensor_value_info(out, TensorProto.FLOAT, ["N", n])
    graph = helper.make_graph(nodes, "churn_preprocessing", inputs, [output], inits)
    return _model(graph, "churn-trainer preprocessing")


def session(model: onnx.ModelProto) -> ort.InferenceSession:
    """A single-threaded-per-op CPU session (deterministic, no thread oversubscription)."""
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(
        model.SerializeToString(), sess_options=opts, providers=["CPUExecutionProvider"]
    )


def run_batched(sess: ort.InferenceSession, feeds: dict[str, np.ndarray], outputs: list[str]):
    """Runs the session over row batches (bounded memory for large tables)."""
    n = len(next(iter(feeds.values())))
    chunks: list[list[np.ndarray]] = [[] for _ in outputs]
    for start in range(0, max(n, 1), ENCODE_BATCH_ROWS):
        batch = {k: v[start : start + ENCODE_BATCH_ROWS] for k, v in feeds.items()}
        for acc, arr in zip(chunks, sess.run(outputs, batch), strict=True):
            acc.append(arr)
    return [np.concatenate(c, axis=0) for c in chunks]


def base_margin(booster: xgb.Booster) -> float:
    """The margin xgboost adds before the trees: logit(base_score) for binary:logistic."""
    cfg = json.loads(booster.save_config())
    raw = cfg["learner"]["learner_model_param"]["base_score"]
    p = float(str(raw).strip("[]").split(",")[0])
    p32 = float(np.float32(p))
    return float(np.float32(math.log(p32 / (1.0 - p32))))


TREE_ATTRS = (
    "nodes_treeids",
    "nodes_nodeids",
    "nodes_featureids",
    "nodes_modes",
    "nodes_values",
    "nodes_truenodeids",
    "nodes_falsenodeids",
    "nodes_missing_value_tracks_true",
    "nodes_hitrates",
    "class_treeids",
    "class_nodeids",
    "class_ids",
    "class_weights",
)


def _add_leaf(a: dict[str, list], t_id: int, nid: int, tree: dict[str, Any]) -> None:
    a["nodes_featureids"].append(0)
    a["nodes_modes"].append("LEAF")
    a["nodes_values"].append(0.0)
    a["nodes_truenodeids"].append(0)
    a["nodes_falsenodeids"].append(0)
    a["nodes_missing_value_tracks_true"].append(0)
    a["class_treeids"].append(t_id)
    a["class_nodeids"].append(nid)
    a["class_ids"].append(0)
    a["class_weights"].append(float(tree["split_conditions"][nid]))


def _add_branch(a: dict[str, list], nid: int, tree: dict[str, Any]) -> None:
    a["nodes_featureids"].append(int(tree["split_indices"][nid]))
    a["nodes_modes"].append("BRANCH_LT")  # xgboost: x < split goes left ("yes")
    a["nodes_values"].append(float(tree["split_conditions"][nid]))
    a["nodes_truenodeids"].append(int(tree["left_children"][nid]))
    a["nodes_falsenodeids"].append(int(tree["right_children"][nid]))
    a["nodes_missing_value_tracks_true"].append(int(tree["default_left"][nid]))


def _add_tree(a: dict[str, list], t_id: int, tree: dict[str, Any]) -> int:
    """Appends one tree's nodes, depth first from the root; returns how many."""
    left, right = tree["left_children"], tree["right_children"]
    if any(s != 0 for s in tree.get("split_type", [])):
        raise ValueError("categorical splits cannot be exported")
    n_nodes = 0
    # walk from the root so pruned/deleted slots never appear
    stack = [0]
    while stack:
        nid = stack.pop()
        n_nodes += 1
        a["nodes_treeids"].append(t_id)
        a["nodes_nodeids"].append(nid)
        a["nodes_hitrates"].append(float(tree["sum_hessian"][nid]))
        if left[nid] == -1:
            _add_leaf(a, t_id, nid, tree)
        else:
            _add_branch(a, nid, tree)
            stack.extend([right[nid], left[nid]])
    return n_nodes


def booster_trees(booster: xgb.Booster) -> Trees:
    """Reads the booster's JSON model into TreeEnsemble attributes (covers in nodes_hitrates)."""
    model = json.loads(booster.save_raw("json"))
    gb = model["learner"]["gradient_booster"]
    if gb.get("name", "gbtree") != "gbtree":
        raise ValueError(f"unsupported booster {gb.get('name')!r}")
    trees = gb["model"]["trees"]
    a: dict[str, list] = {k: [] for k in TREE_ATTRS}
    n_nodes = sum(_add_tree(a, t_id, tree) for t_id, tree in enumerate(trees))
    return Trees(a, base_margin(booster), len(trees), n_nodes)


def bagged_trees(boosters: list[xgb.Booster]) -> Trees:
    """The average of `boosters` as one ensemble: their trees one after another (tree ids
    renumbered), every leaf weight divided by their count and the base margin their mean
    base margin, so the tree sum is the mean of their margins (and TreeSHAP, linear in the
    trees, explains that mean). Covers stay each tree's own."""
    k = len(boosters)
    members = [booster_trees(b) for b in boosters]
    a: dict[str, list] = {key: [] for key in TREE_ATTRS}
    offset = 0
    for m in members:
        for key in TREE_ATTRS:
            vals = m.attrs[key]
            if key in ("nodes_treeids", "class_treeids"):
                vals = [t + offset for t in vals]
            elif key == "class_weights":
                vals = [float(np.float32(w / k)) for w in vals]
            a[key].extend(vals)
        offset += m.n_trees
    base = float(np.float32(np.mean([m.base_margin for m in members])))
    return Trees(a, base, offset, sum(m.n_nodes for m in members))


def calibrated_trees(trees: Trees, cal: Calibration) -> Trees:
    """The trees with sigmoid calibration folded in: every leaf weight times `a`, base margin
    `a*m + b`, so the tree sum is the calibrated log-odds (and TreeSHAP explains it)."""
    if cal.method != "sigmoid":
        return trees
    attrs = dict(trees.attrs)
    attrs["class_weights"] = [float(np.float32(cal.a * w)) for w in trees.attrs["class_weights"]]
    base = float(np.float32(cal.a * trees.base_margin + cal.b))
    return Trees(attrs, base, trees.n_trees, trees.n_nodes)


def _isotonic_nodes(cal: Calibration, p_in: str, p_out: str) -> Nodes:
    """p_out = ys[0] + sum_i slope_i * (clip(p_in, xs[i], xs[i+1]) - xs[i]), kept in [0, 1]:
    the linear interpolation between the knots, flat outside them."""
    xs, ys = np.array(cal.xs, dtype=np.float64), np.array(cal.ys, dtype=np.float64)
    slopes = np.diff(ys) / np.diff(xs)
    q = INTERNAL + "iso"
    inits = [
        numpy_helper.from_array(xs[:-1].astype(np.float32).reshape(1, -1), f"{q}_lo"),
        numpy_helper.from_array(xs[1:].astype(np.float32).reshape(1, -1), f"{q}_hi"),
        numpy_helper.from_array(slopes.astype(np.float32).reshape(-1, 1), f"{q}_slope"),
        numpy_helper.from_array(np.array([[ys[0]]], dtype=np.float32), f"{q}_y0"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), f"{q}_zero"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), f"{q}_unit"),
    ]
    nodes = [
        helper.make_node("Max", [p_in, f"{q}_lo"], [f"{q}_max"], name=f"{q}_max"),
        helper.make_node("Min", [f"{q}_max", f"{q}_hi"], [f"{q}_clip"], name=f"{q}_clip"),
        helper.make_node("Sub", [f"{q}_clip", f"{q}_lo"], [f"{q}_run"], name=f"{q}_run"),
        helper.make_node("MatMul", [f"{q}_run", f"{q}_slope"], [f"{q}_rise"], name=f"{q}_rise"),
        helper.make_node("Add", [f"{q}_rise", f"{q}_y0"], [f"{q}_sum"], name=f"{q}_sum"),
        # float32 rounding of the sum can leave [0, 1] by an ulp (1.0000001 broke Brier)
        helper.make_node(
            "Clip", [f"{q}_sum", f"{q}_zero", f"{q}_unit"], [p_out], name=f"{q}_value"
        ),
    ]
    return nodes, inits


def _calibrated_outputs(cal: Calibration) -> Nodes:
    """Isotonic: `probability` from the trees' (internal) probability, then `probabilities`
    as [1-p, p] and `label` as its argmax, so every output agrees with the calibrated p."""
    q = INTERNAL + "iso"
    nodes, inits = _isotonic_nodes(cal, f"{q}_raw", "probability")
    inits.append(numpy_helper.from_array(np.array([[1.0]], dtype=np.float32), f"{q}_one"))
    nodes += [
        helper.make_node("Sub", [f"{q}_one", "probability"], [f"{q}_neg"], name=f"{q}_neg"),
        helper.make_node(
            "Concat", [f"{q}_neg", "probability"], ["probabilities"], name=f"{q}_both", axis=1
        ),
        helper.make_node(
            "ArgMax", ["probabilities"], ["label"], name=f"{q}_label", axis=1, keepdims=0
        ),
    ]
    return nodes, inits


def full_model(
    encoders: list[Encoder], trees: Trees, name: str, cal: Calibration | None = None
) -> onnx.ModelProto:
    """Raw columns -> `probability` [N,1] and `features` [N,F] (plus the classifier's outputs).

    `trees` must already carry a sigmoid calibration (calibrated_trees); an isotonic one adds
    its piecewise-linear map after the trees."""
    cal = cal or Calibration()
    iso = cal.method == "isotonic"
    nodes, inputs, inits, feats = preprocessing_graph(encoders)
    n = len(encoded_names(encoders))
    raw = (INTERNAL + "iso_") if iso else ""
    nodes.append(
        _ml_node(
            "TreeEnsembleClassifier",
            [feats],
            [f"{raw}label", f"{raw}probabilities"],
            "trees",
            classlabels_int64s=[0, 1],
            post_transform="LOGISTIC",
            base_values=[trees.base_margin],
            **trees.attrs,
        )
    )
    for nm, val in (("p_start", [1]), ("p_end", [2]), ("p_axis", [1])):
        inits.append(numpy_helper.from_array(np.array(val, dtype=np.int64), INTERNAL + nm))
    nodes.append(
        helper.make_node(
            "Slice",
            [f"{raw}probabilities", *(INTERNAL + n for n in ("p_start", "p_end", "p_axis"))],
            [INTERNAL + "iso_raw" if iso else "probability"],
            name="positive_class",
        )
    )
    if iso:
        cal_nodes, cal_inits = _calibrated_outputs(cal)
        nodes += cal_nodes
        inits += cal_inits
    outputs = [
        helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["N", 1]),
        helper.make_tensor_value_info(feats, TensorProto.FLOAT, ["N", n]),
        helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
        helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2]),
    ]
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    return _model(graph, f"churn-trainer model {name}")


def check_covers(booster: xgb.Booster, trees: Trees) -> None:
    """Cross-checks covers against trees_to_dataframe (tree id + node id) and fails on mismatch."""
    df = booster.trees_to_dataframe()
    ref = {(int(t), int(n)): float(c) for t, n, c in zip(df.Tree, df.Node, df.Cover, strict=True)}
    a = trees.attrs
    for t, n, c in zip(a["nodes_treeids"], a["nodes_nodeids"], a["nodes_hitrates"], strict=True):
        if not math.isclose(ref[(t, n)], c, rel_tol=1e-5, abs_tol=1e-6):
            raise ValueError(f"cover mismatch at tree {t} node {n}: {ref[(t, n)]} vs {c}")
    n_export = len(a["nodes_treeids"])
    if len(ref) != n_export:
        raise ValueError(f"node count mismatch: dataframe {len(ref)} vs export {n_export}")
