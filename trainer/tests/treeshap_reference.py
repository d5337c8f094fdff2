"""Exact path-dependent TreeSHAP computed from the ONNX TreeEnsemble's attributes alone.

A test oracle (and a reference for the runtime): if this reproduces xgboost's pred_contribs
from model.onnx, then `nodes_hitrates` really carries everything TreeSHAP needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import helper


@dataclass
class Ensemble:
    nodes: dict[tuple[int, int], dict]
    roots: list[tuple[int, int]]
    base: float
    n_features: int


def read_ensemble(model: onnx.ModelProto) -> Ensemble:
    (node,) = [n for n in model.graph.node if n.op_type == "TreeEnsembleClassifier"]
    a = {at.name: helper.get_attribute_value(at) for at in node.attribute}
    nodes: dict[tuple[int, int], dict] = {}
    for i, (t, nid) in enumerate(zip(a["nodes_treeids"], a["nodes_nodeids"], strict=True)):
        nodes[(t, nid)] = {
            "leaf": a["nodes_modes"][i] == b"LEAF",
            "feature": a["nodes_featureids"][i],
            "threshold": a["nodes_values"][i],
            "true": (t, a["nodes_truenodeids"][i]),
            "false": (t, a["nodes_falsenodeids"][i]),
            "missing_true": bool(a["nodes_missing_value_tracks_true"][i]),
            "cover": a["nodes_hitrates"][i],
            "value": 0.0,
        }
    for t, nid, w in zip(a["class_treeids"], a["class_nodeids"], a["class_weights"], strict=True):
        nodes[(t, nid)]["value"] += w
    roots = sorted({(t, 0) for t, _ in nodes})
    n_features = max(n["feature"] for n in nodes.values() if not n["leaf"]) + 1
    return Ensemble(nodes, roots, a["base_values"][0], n_features)


def _extend(m, d, pz, po, pi):
    m[d] = [pi, pz, po, 1.0 if d == 0 else 0.0]
    for i in range(d - 1, -1, -1):
        m[i + 1][3] += po * m[i][3] * (i + 1) / (d + 1)
        m[i][3] = pz * m[i][3] * (d - i) / (d + 1)


def _unwind(m, d, k):
    po, pz = m[k][2], m[k][1]
    nxt = m[d][3]
    for i in range(d - 1, -1, -1):
        if po != 0:
            tmp = m[i][3]
            m[i][3] = nxt * (d + 1) / ((i + 1) * po)
            nxt = tmp - m[i][3] * pz * (d - i) / (d + 1)
        else:
            m[i][3] = m[i][3] * (d + 1) / (pz * (d - i))
    for i in range(k, d):
        m[i][0:3] = m[i + 1][0:3]


def _unwound_sum(m, d, k):
    po, pz = m[k][2], m[k][1]
    nxt = m[d][3]
    total = 0.0
    for i in range(d - 1, -1, -1):
        if po != 0:
            tmp = nxt * (d + 1) / ((i + 1) * po)
            total += tmp
            nxt = m[i][3] - tmp * pz * (d - i) / (d + 1)
        else:
            total += m[i][3] / pz / ((d - i) / (d + 1))
    return total


def _recurse(ens, x, phi, key, parent, d, pz, po, pi):
    m = [e[:] for e in parent[:d]] + [[0, 0.0, 0.0, 0.0]]
    _extend(m, d, pz, po, pi)
    node = ens.nodes[key]
    if node["leaf"]:
        for i in range(1, d + 1):
            w = _unwound_sum(m, d, i)
            phi[m[i][0]] += w * (m[i][2] - m[i][1]) * node["value"]
        return
    v = x[node["feature"]]
    go_true = node["missing_true"] if math.isnan(v) else v < node["threshold"]
    hot, cold = (node["true"], node["false"]) if go_true else (node["false"], node["true"])
    cover = node["cover"]
    iz, io = 1.0, 1.0
    k = next((i for i in range(d + 1) if m[i][0] == node["feature"]), None)
    if k is not None:
        iz, io = m[k][1], m[k][2]
        _unwind(m, d, k)
        d -= 1
    _recurse(ens, x, phi, hot, m, d + 1, ens.nodes[hot]["cover"] / cover * iz, io, node["feature"])
    _recurse(
        ens, x, phi, cold, m, d + 1, ens.nodes[cold]["cover"] / cover * iz, 0.0, node["feature"]
    )


def _expected(ens, key):
    node = ens.nodes[key]
    if node["leaf"]:
        return node["value"]
    c = node["cover"]
    t, f = node["true"], node["false"]
    return (
        ens.nodes[t]["cover"] * _expected(ens, t) + ens.nodes[f]["cover"] * _expected(ens, f)
    ) / c


def shap_values(ens: Ensemble, x: np.ndarray) -> np.ndarray:
    """Contributions per feature plus the bias (last), like xgboost's pred_contribs."""
    phi = np.zeros(len(x) + 1)
    for root in ens.roots:
        _recurse(ens, [float(v) for v in x], phi, root, [], 0, 1.0, 1.0, -1)
        phi[-1] += _expected(ens, root)
    phi[-1] += ens.base
    return phi
