"""onnxmltools as an independent oracle for the trainer's own tree writer (`booster_trees`).

The trainer writes the TreeEnsembleClassifier straight from xgboost's JSON model instead of
through `onnxmltools.convert_xgboost`, because the converter renumbers node ids (depth-first
order instead of xgboost's, so `nodes_nodeids` would no longer match xgboost's dump or
`trees_to_dataframe`) and does not emit `nodes_hitrates` for classifiers, so the covers could
not be matched by (tree id, node id); docs/artifact.md ("Why not onnxmltools directly") has the
measured numbers. These tests convert the same booster with onnxmltools and check that both
writers describe the same trees: walked from each root in step, every split has the same
feature, float32 threshold and default direction, every leaf the same weight, and both graphs
score the test rows (with and without missing values) the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import onnx
import pytest
import xgboost as xgb
from conftest import example_spec
from onnx import TensorProto, helper
from onnxmltools import convert_xgboost
from onnxmltools.convert.common.data_types import FloatTensorType

from churn_trainer.data import fetch, model_inputs, parse
from churn_trainer.encode import Encoder, encoded_names, fit_encoders
from churn_trainer.export import (
    IR_VERSION,
    ML_OPSET,
    ONNX_OPSET,
    booster_trees,
    full_model,
    preprocessing_model,
    run_batched,
    session,
)
from churn_trainer.spec import parse_spec
from churn_trainer.train import fit, resolve_hyperparameters, split_rows

CONVERTER_OPSET = 15  # the highest default-domain opset onnxmltools 1.16 converts to
MISSING_FRACTION = 0.1
# Measured: both writers produce bit-identical trees; their probabilities differ by at most one
# float32 ulp of a probability in [0.5, 1) (0.0 on the seed's test set), because onnxmltools
# computes the base margin logit(base_score) with 1/p in float32, one ulp away from ours.
WRITERS_TOLERANCE = 2.0**-23
PARITY_TOLERANCE = 1e-5  # the trainer's parity gate, for each writer against xgboost


@dataclass
class Fitted:
    booster: xgb.Booster
    encoders: list[Encoder]
    x_test: np.ndarray
    trained_with_missing: bool


@dataclass
class TreeNode:
    """A TreeEnsembleClassifier's attributes, indexed by (tree id, node id)."""

    attrs: dict
    index: dict[tuple[int, int], int]
    leaf_weight: dict[tuple[int, int], float]

    @classmethod
    def of(cls, node: onnx.NodeProto) -> TreeNode:
        a = {at.name: helper.get_attribute_value(at) for at in node.attribute}
        index = {
            (t, n): i
            for i, (t, n) in enumerate(zip(a["nodes_treeids"], a["nodes_nodeids"], strict=True))
        }
        weights: dict[tuple[int, int], float] = {}
        for t, n, w in zip(a["class_treeids"], a["class_nodeids"], a["class_weights"], strict=True):
            weights[(t, n)] = weights.get((t, n), 0.0) + w
        return cls(a, index, weights)

    def is_leaf(self, i: int) -> bool:
        return self.attrs["nodes_modes"][i] == b"LEAF"

    def base_margin(self) -> float:
        return float(self.attrs.get("base_values", [0.0])[0])  # omitted means 0


def _tree_node(model: onnx.ModelProto) -> onnx.NodeProto:
    (node,) = [n for n in model.graph.node if n.op_type == "TreeEnsembleClassifier"]
    return node


def _walk(ours: TreeNode, theirs: TreeNode, tree: int) -> Iterator[tuple[int, int]]:
    """Pairs of attribute indices, visiting both trees from the root in step (true = yes)."""
    stack = [(0, 0)]
    while stack:
        a, b = stack.pop()
        i, j = ours.index[(tree, a)], theirs.index[(tree, b)]
        yield i, j
        if not ours.is_leaf(i) and not theirs.is_leaf(j):
            oa, ta = ours.attrs, theirs.attrs
            stack.append((oa["nodes_falsenodeids"][i], ta["nodes_falsenodeids"][j]))
            stack.append((oa["nodes_truenodeids"][i], ta["nodes_truenodeids"][j]))


def _features_model(node: onnx.NodeProto, n_features: int) -> onnx.ModelProto:
    """Our tree node alone, on the encoded `features` matrix (as onnxmltools' model takes it)."""
    graph = helper.make_graph(
        [node],
        "trees_only",
        [helper.make_tensor_value_info(node.input[0], TensorProto.FLOAT, ["N", n_features])],
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2]),
        ],
    )
    return helper.make_model(
        graph,
        opset_imports=[
            helper.make_opsetid("", ONNX_OPSET),
            helper.make_opsetid("ai.onnx.ml", ML_OPSET),
        ],
        ir_version=IR_VERSION,
    )


def _with_missing(x: np.ndarray, seed: int) -> np.ndarray:
    out = x.copy()
    out[np.random.default_rng(seed).random(x.shape) < MISSING_FRACTION] = np.nan
    return out


@pytest.fixture(scope="module", params=["example", "deep-with-missing"])
def fitted(request, synth_csv) -> Fitted:
    """A booster fitted the trainer's way (ONNX-encoded matrix, resolved hyperparameters) on the
    synthetic data. `example`: the example spec as the pipeline trains it. `deep-with-missing`:
    deeper trees, and 10% of the encoded values missing so default directions are learned."""
    raw = example_spec()
    raw["dataset"]["location"] = str(synth_csv)
    with_missing = request.param == "deep-with-missing"
    if with_missing:
        raw["model"]["hyperparameters"].update(n_estimators=40, max_depth=7)
    spec = parse_spec(raw)
    table = parse(fetch(spec.dataset.location), spec, [])
    y = table.y.astype(np.int8)
    parts = split_rows(y, spec, [])
    encoders = fit_encoders(table.features.iloc[parts.train], spec)
    feeds = model_inputs(table.features, spec)
    (x,) = run_batched(session(preprocessing_model(encoders)), feeds, ["features"])
    if with_missing:
        x = _with_missing(x, seed=1)
    # one thread: on a busy shared machine OpenMP's spinning threads make small fits 20x slower
    params = resolve_hyperparameters(spec, y[parts.train]) | {"n_jobs": 1}
    booster = fit(x[parts.train], y[parts.train], params)
    return Fitted(booster, encoders, x[parts.test], with_missing)


@pytest.fixture(scope="module")
def writers(fitted) -> tuple[onnx.ModelProto, onnx.ModelProto]:
    """(ours, onnxmltools') tree ensembles, each alone in a model over the encoded features."""
    n = len(encoded_names(fitted.encoders))
    # the tree node exactly as the trainer writes it, taken out of its full graph
    ours = _tree_node(full_model(fitted.encoders, booster_trees(fitted.booster), "oracle"))
    theirs = convert_xgboost(
        fitted.booster,
        initial_types=[(ours.input[0], FloatTensorType([None, n]))],
        target_opset=CONVERTER_OPSET,
    )
    return _features_model(ours, n), theirs


def test_both_writers_describe_the_same_trees(fitted, writers):
    ours, theirs = (TreeNode.of(_tree_node(m)) for m in writers)
    n_trees = fitted.booster.num_boosted_rounds()
    for t in (ours, theirs):
        assert sorted(set(t.attrs["nodes_treeids"])) == list(range(n_trees))
    assert len(ours.index) == len(theirs.index)
    oa, ta = ours.attrs, theirs.attrs
    visited = 0
    for tree in range(n_trees):
        for i, j in _walk(ours, theirs, tree):
            visited += 1
            where = f"tree {tree}, our node {oa['nodes_nodeids'][i]}"
            assert oa["nodes_modes"][i] == ta["nodes_modes"][j], where
            if ours.is_leaf(i):
                key_o, key_t = (tree, oa["nodes_nodeids"][i]), (tree, ta["nodes_nodeids"][j])
                assert np.float32(ours.leaf_weight[key_o]) == np.float32(
                    theirs.leaf_weight[key_t]
                ), where
                continue
            assert oa["nodes_featureids"][i] == ta["nodes_featureids"][j], where
            assert np.float32(oa["nodes_values"][i]) == np.float32(ta["nodes_values"][j]), where
            assert (
                oa["nodes_missing_value_tracks_true"][i] == ta["nodes_missing_value_tracks_true"][j]
            ), where
    assert visited == len(ours.index)  # every node was reached from a root and matched
    if fitted.trained_with_missing:  # otherwise the direction check above could not fail
        tracks = oa["nodes_missing_value_tracks_true"]
        branch = {m for m, mode in zip(tracks, oa["nodes_modes"], strict=True) if mode != b"LEAF"}
        assert branch == {0, 1}
    assert ours.base_margin() == pytest.approx(theirs.base_margin(), abs=WRITERS_TOLERANCE)


@pytest.mark.parametrize("rows", ["complete", "with-missing"])
def test_both_writers_score_the_test_rows_like_xgboost(fitted, writers, rows):
    x = fitted.x_test if rows == "complete" else _with_missing(fitted.x_test, seed=2)
    want = fitted.booster.predict(xgb.DMatrix(x, missing=np.nan)).astype(np.float64)
    ours, theirs = (
        session(m).run(["probabilities"], {_tree_node(m).input[0]: x})[0][:, 1] for m in writers
    )
    assert np.max(np.abs(ours - want)) <= PARITY_TOLERANCE
    assert np.max(np.abs(theirs - want)) <= PARITY_TOLERANCE
    assert np.max(np.abs(ours - theirs)) <= WRITERS_TOLERANCE
