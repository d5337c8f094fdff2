"""The artifact contract (docs/artifact.md), checked on one shared trained artifact."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from conftest import run_cli
from treeshap_reference import read_ensemble, shap_values

from churn_trainer.spec import load_spec

FILES = [
    "model.onnx",
    "model.json",
    "validation.json",
    "metrics.json",
    "baseline.json",
    "reference.json",
    "roc.png",
    "pr.png",
    "reliability.png",
]


def load(trained, name):
    return json.loads((trained["dir"] / name).read_text())


def feeds_for(rows, card):
    types = {f["name"]: f["type"] for f in card["schema"]["features"]}
    feeds = {}
    for name in card["features"]["raw"]:
        vals = [r[name] for r in rows]
        if types[name] in ("categorical", "ordinal"):
            feeds[name] = np.array(["" if v is None else v for v in vals], dtype=object)
        else:
            feeds[name] = np.array([np.nan if v is None else v for v in vals], dtype=np.float32)
        feeds[name] = feeds[name].reshape(-1, 1)
    return feeds


def test_layout_is_content_addressed_and_complete(trained):
    d = trained["dir"]
    assert sorted(p.name for p in d.iterdir()) == sorted(FILES)
    digest = hashlib.sha256((d / "model.onnx").read_bytes()).hexdigest()
    assert d.name == digest == trained["summary"]["digest"]
    assert load(trained, "model.json")["digest"] == digest
    assert [p.name for p in trained["store"].iterdir()] == [digest]  # no temp dir left
    for png in ("roc.png", "pr.png", "reliability.png"):
        assert (d / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_summary_line_and_termination_log(trained):
    s = trained["summary"]
    assert s["status"] == "succeeded" and s["exitCode"] == 0
    assert set(s["metrics"]) >= {"rocAuc", "prAuc", "f1", "f2", "precision", "recall"}
    raw = trained["termination"].read_bytes()
    assert len(raw) < 4096 and raw.count(b"\n") == 1


def test_same_spec_again_reuses_the_directory(trained, capsys):
    before = (trained["dir"] / "model.json").read_bytes()
    code, summary, _ = run_cli(
        capsys, "train", "--spec", str(trained["spec"]), "--output", str(trained["store"])
    )
    assert code == 0
    assert summary["digest"] == trained["summary"]["digest"] and summary["created"] is False
    assert (trained["dir"] / "model.json").read_bytes() == before


def test_onnx_inputs_outputs_and_tree_attributes(trained):
    model = onnx.load(trained["dir"] / "model.onnx")
    card = load(trained, "model.json")
    types = {f["name"]: f["type"] for f in card["schema"]["features"]}
    inputs = {i.name: i.type.tensor_type for i in model.graph.input}
    assert list(inputs) == card["features"]["raw"]
    for name, tt in inputs.items():
        want = (
            onnx.TensorProto.STRING
            if types[name] in ("categorical", "ordinal")
            else onnx.TensorProto.FLOAT
        )
        assert tt.elem_type == want
        assert [d.dim_value or d.dim_param for d in tt.shape.dim][1] == 1
    outs = [o.name for o in model.graph.output]
    assert outs[:2] == ["probability", "features"]
    (trees,) = [n for n in model.graph.node if n.op_type == "TreeEnsembleClassifier"]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in trees.attribute}
    n = len(attrs["nodes_nodeids"])
    assert len(attrs["nodes_hitrates"]) == n and all(c > 0 for c in attrs["nodes_hitrates"])
    assert set(attrs["nodes_modes"]) == {b"BRANCH_LT", b"LEAF"}
    assert attrs["post_transform"] == b"LOGISTIC"
    assert math.isclose(attrs["base_values"][0], card["onnx"]["baseMargin"], rel_tol=1e-6)
    assert {o.domain: o.version for o in model.opset_import}["ai.onnx.ml"] == 3


def test_reference_probes_reproduce_with_onnxruntime(trained):
    ref = load(trained, "reference.json")
    card = load(trained, "model.json")
    rows = ref["rows"]
    assert len(rows) >= 100
    assert (
        len(ref["probabilities"]) == len(ref["contributions"]) == len(ref["margins"]) == len(rows)
    )
    assert any(v == "__never_seen_in_training__" for r in rows for v in r.values())
    sess = ort.InferenceSession(str(trained["dir"] / "model.onnx"))
    prob, feats = sess.run(["probability", "features"], feeds_for(rows, card))
    assert prob.shape == (len(rows), 1)
    assert feats.shape == (len(rows), len(card["features"]["encoded"]))
    assert np.max(np.abs(prob[:, 0] - np.array(ref["probabilities"]))) <= 1e-5
    contribs = np.array(ref["contributions"])
    assert contribs.shape[1] == len(card["features"]["encoded"]) + 1
    assert np.allclose(contribs.sum(axis=1), ref["margins"], atol=1e-4)
    sig = 1 / (1 + np.exp(-np.array(ref["margins"])))
    assert np.allclose(sig, ref["probabilities"], atol=1e-6)


def test_treeshap_from_onnx_attributes_alone_matches_xgboost(trained):
    """nodes_hitrates carries the covers: TreeSHAP over ONNX reproduces pred_contribs."""
    ref = load(trained, "reference.json")
    card = load(trained, "model.json")
    ens = read_ensemble(onnx.load(trained["dir"] / "model.onnx"))
    sess = ort.InferenceSession(str(trained["dir"] / "model.onnx"))
    rows = ref["rows"][:5] + ref["rows"][-3:]  # real rows and the unseen-category probes
    contribs = ref["contributions"][:5] + ref["contributions"][-3:]
    (feats,) = sess.run(["features"], feeds_for(rows, card))
    for x, want in zip(feats, contribs, strict=True):
        assert np.allclose(shap_values(ens, x), want, atol=2e-4)


def test_parity_gate_recorded(trained):
    card = load(trained, "model.json")
    parity = card["parity"]
    assert parity["passed"] and parity["maxAbsDiff"] <= 1e-5 and parity["tolerance"] == 1e-5
    assert parity["rows"] == card["split"]["testRows"]
    gate_names = [g["name"] for g in card["gates"]]
    assert "parity" in gate_names and "maxRocAuc" in gate_names


def test_model_card_describes_schema_features_and_split(trained):
    card = load(trained, "model.json")
    assert card["formatVersion"] == 1 and card["name"] == "bank-churn"
    assert len(card["features"]["raw"]) == 13 and len(card["features"]["encoded"]) == 16
    assert card["features"]["encoded"][1:4] == [
        "Geography=France",
        "Geography=Germany",
        "Geography=Spain",
    ]
    assert card["features"]["encodedToRaw"][:5] == [0, 1, 1, 1, 2]
    assert card["threshold"]["chosenOn"] == "validation"
    sp = card["split"]
    assert sp["trainRows"] + sp["validationRows"] + sp["testRows"] == card["data"]["rows"]
    assert card["hyperparameters"]["scale_pos_weight"] > 1  # auto resolved to neg/pos
    assert len(card["data"]["sha256"]) == 64
    assert {"xgboost", "onnx", "onnxruntime", "python"} <= set(card["libraries"])


def test_validation_json_has_observed_values(trained):
    v = load(trained, "validation.json")
    assert v["passed"] is True
    names = {c["name"] for c in v["checks"]}
    assert {
        "rows.min",
        "target.twoClasses",
        "id.unique",
        "feature.type",
        "feature.range",
        "feature.values",
        "feature.nullFraction",
        "feature.leakage",
    } <= names
    assert all("observed" in c and c["passed"] for c in v["checks"])
    leak = [c for c in v["checks"] if c["name"] == "feature.leakage"]
    assert len(leak) == 13


def test_metrics_and_baseline(trained):
    m = load(trained, "metrics.json")
    for k in (
        "rocAuc",
        "prAuc",
        "f1",
        "f2",
        "precision",
        "recall",
        "accuracy",
        "logLoss",
        "brier",
        "threshold",
    ):
        assert isinstance(m[k], float)
    cm = m["confusionMatrix"]
    assert sum(cm.values()) == m["rows"]
    assert len(m["curves"]["roc"]["fpr"]) == len(m["curves"]["roc"]["tpr"]) >= 2
    assert len(m["curves"]["pr"]["precision"]) == len(m["curves"]["pr"]["recall"])
    b = load(trained, "baseline.json")
    for name, f in b["features"].items():
        assert math.isclose(sum(f["fractions"]), 1.0, abs_tol=1e-4), name
        if f["type"] == "numeric":
            assert f["bins"][0] is None and f["bins"][-1] is None
            assert len(f["fractions"]) == len(f["bins"]) - 1
        else:
            assert f["categories"][-1] == "__other__"
    assert math.isclose(sum(b["score"]["fractions"]), 1.0, abs_tol=1e-4)


def test_spec_dataset_path_is_relative_to_spec_file(trained):
    spec = load_spec(trained["spec"])
    assert spec.dataset.location.startswith("/")


@pytest.mark.parametrize("name", ["Geography", "Card Type"])
def test_unseen_category_does_not_crash(trained, name):
    card = load(trained, "model.json")
    row = dict(load(trained, "reference.json")["rows"][0])
    row[name] = "Atlantis"
    sess = ort.InferenceSession(str(trained["dir"] / "model.onnx"))
    (prob,) = sess.run(["probability"], feeds_for([row], card))
    assert 0.0 < float(prob[0, 0]) < 1.0
