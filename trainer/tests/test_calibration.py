"""Calibration inside the graph: sigmoid folded into the trees (SHAP sums to the calibrated
log-odds), isotonic as a piecewise-linear map after them (SHAP explains the uncalibrated
margin), both covered by the parity gate and reported before and after."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from conftest import run_cli, small_spec, write_spec
from test_artifact import feeds_for
from treeshap_reference import read_ensemble, shap_values

from churn_trainer.calibrate import fit_calibration
from churn_trainer.cli import main
from churn_trainer.spec import parse_spec
from churn_trainer.train import best_threshold


def _logit(p):
    p = np.asarray(p, dtype=np.float64)
    return np.log(p / (1 - p))


@pytest.fixture(scope="module", params=["sigmoid", "isotonic"])
def calibrated(request, tmp_path_factory, synth_csv):
    tmp = tmp_path_factory.mktemp(f"cal-{request.param}")
    spec = small_spec(synth_csv, calibration={"method": request.param})
    spec["model"]["scalePosWeight"] = "auto"  # inflated probabilities: something to calibrate
    path = write_spec(tmp, spec)
    code = main(
        [
            "train",
            "--spec",
            str(path),
            "--output",
            str(tmp / "store"),
            "--termination-log",
            str(tmp / "term.log"),
        ]
    )
    assert code == 0
    summary = json.loads((tmp / "term.log").read_text())
    d = Path(summary["artifact"])
    load = lambda name: json.loads((d / name).read_text())  # noqa: E731
    return {
        "method": request.param,
        "dir": d,
        "summary": summary,
        "card": load("model.json"),
        "ref": load("reference.json"),
        "metrics": load("metrics.json"),
    }


def test_sigmoid_fit_recovers_a_known_map():
    rng = np.random.default_rng(0)
    margin = rng.normal(0, 2, 20_000)
    y = rng.random(20_000) < 1 / (1 + np.exp(-(0.5 * margin - 1.0)))
    cal = fit_calibration("sigmoid", margin, y)
    assert cal.a == pytest.approx(0.5, abs=0.03) and cal.b == pytest.approx(-1.0, abs=0.05)


def test_isotonic_map_is_monotone_with_bounded_slopes():
    rng = np.random.default_rng(1)
    margin = rng.normal(0, 2, 3000)
    y = rng.random(3000) < 1 / (1 + np.exp(-(0.7 * margin + 0.3)))
    cal = fit_calibration("isotonic", margin, y)
    xs, ys = np.array(cal.xs), np.array(cal.ys)
    assert len(xs) >= 2 and np.all(np.diff(xs) >= 1e-3) and np.all(np.diff(ys) >= 0)
    grid = np.linspace(-8, 8, 1001)
    assert np.all(np.diff(cal.probability(grid)) >= 0)
    assert np.max(np.diff(ys) / np.diff(xs)) < 1e3


def test_none_is_the_identity():
    cal = fit_calibration("none", np.array([-1.0, 0.0, 2.0]), np.array([0, 1, 1]))
    assert np.allclose(cal.probability(np.array([0.0])), 0.5)
    assert cal.card()["method"] == "none"


@pytest.mark.parametrize(
    ("patch", "words"),
    [
        ({"calibration": {"method": "platt"}}, "calibration.method"),
        ({"calibration": {"method": "sigmoid", "bins": 3}}, "unknown key"),
    ],
)
def test_calibration_spec_rejections(tmp_path, patch, words):
    from churn_trainer.errors import SpecError

    with pytest.raises(SpecError, match=words):
        parse_spec({**small_spec(tmp_path / "x.csv"), **patch})


def test_calibration_shorthand_and_default(tmp_path):
    bare = {k: v for k, v in small_spec(tmp_path / "x.csv").items() if k != "calibration"}
    assert parse_spec(bare).calibration.method == "none"
    spec = parse_spec({**small_spec(tmp_path / "x.csv"), "calibration": "isotonic"})
    assert spec.calibration.method == "isotonic"


def test_parity_gate_covers_the_calibrated_graph(calibrated):
    parity = calibrated["card"]["parity"]
    assert parity["passed"] and max(parity["maxAbsDiff"], parity["probeMaxAbsDiff"]) <= 1e-5
    sess = ort.InferenceSession(str(calibrated["dir"] / "model.onnx"))
    rows = calibrated["ref"]["rows"]
    prob, probs, label = sess.run(
        ["probability", "probabilities", "label"], feeds_for(rows, calibrated["card"])
    )
    assert np.max(np.abs(prob[:, 0] - calibrated["ref"]["probabilities"])) <= 1e-5
    assert np.allclose(probs[:, 1], prob[:, 0]) and np.allclose(probs.sum(axis=1), 1, atol=1e-6)
    assert np.array_equal(label, (probs[:, 1] > probs[:, 0]).astype(np.int64))


def test_calibration_improves_brier_and_is_reported(calibrated):
    cal = calibrated["metrics"]["calibration"]
    assert cal["method"] == calibrated["method"]
    before, after = cal["uncalibrated"], cal["calibrated"]
    # scalePosWeight auto inflates every probability; calibration on the validation fold fixes it
    assert after["brier"] < before["brier"] and after["logLoss"] < before["logLoss"]
    assert calibrated["metrics"]["brier"] == after["brier"]
    for doc in (before, after):
        r = doc["reliability"]
        assert sum(r["rows"]) == calibrated["metrics"]["rows"]
        assert len(r["meanPredicted"]) == len(r["observedRate"]) == len(r["binLower"])
    assert (calibrated["dir"] / "reliability.png").read_bytes()[:4] == b"\x89PNG"
    card = calibrated["card"]["calibration"]
    assert card["brierCalibrated"] == after["brier"]
    assert card["brierUncalibrated"] == before["brier"]
    assert calibrated["summary"]["calibration"] == calibrated["method"]
    assert calibrated["summary"]["metrics"]["brier"] == after["brier"]


def test_threshold_is_chosen_on_calibrated_validation_probabilities(calibrated, synth_csv):
    from churn_trainer.pipeline import validate_data

    spec = small_spec(synth_csv)
    data = validate_data(parse_spec(spec), log=lambda _: None)
    val = data.parts.validation
    rows = data.table.features.iloc[val]
    card = calibrated["card"]
    records = [
        {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
        for r in rows.to_dict(orient="records")
    ]
    sess = ort.InferenceSession(str(calibrated["dir"] / "model.onnx"))
    (prob,) = sess.run(["probability"], feeds_for(records, card))
    t, _ = best_threshold(data.y[val], prob[:, 0].astype(np.float64), 2.0)
    assert card["threshold"]["value"] == pytest.approx(t, abs=1e-6)


@pytest.mark.parametrize("calibrated", ["sigmoid"], indirect=True)
def test_sigmoid_explanations_sum_to_the_calibrated_log_odds(calibrated):
    ref, card = calibrated["ref"], calibrated["card"]
    contribs = np.array(ref["contributions"])
    # every probe row: contributions + bias = logit(served probability)
    assert np.allclose(contribs.sum(axis=1), _logit(ref["probabilities"]), atol=1e-4)
    assert np.allclose(contribs.sum(axis=1), ref["margins"], atol=1e-4)
    assert card["calibration"]["explanations"] == "calibratedLogOdds"
    # the runtime's side: TreeSHAP over the graph's own attributes reproduces them
    model = onnx.load(calibrated["dir"] / "model.onnx")
    ens = read_ensemble(model)
    assert ens.base == pytest.approx(card["onnx"]["baseMargin"], rel=1e-6)
    sess = ort.InferenceSession(str(calibrated["dir"] / "model.onnx"))
    rows = ref["rows"][:5] + ref["rows"][-3:]
    want = ref["contributions"][:5] + ref["contributions"][-3:]
    (feats,) = sess.run(["features"], feeds_for(rows, card))
    for x, w in zip(feats, want, strict=True):
        assert np.allclose(shap_values(ens, x), w, atol=2e-4)
    a = card["calibration"]["a"]
    assert a != pytest.approx(1.0, abs=1e-3)  # the fold actually changed the trees


@pytest.mark.parametrize("calibrated", ["isotonic"], indirect=True)
def test_isotonic_explanations_are_of_the_uncalibrated_margin(calibrated):
    ref, card = calibrated["ref"], calibrated["card"]
    c = card["calibration"]
    assert c["explanations"] == "uncalibratedMargin"
    margins = np.array(ref["margins"])
    contribs = np.array(ref["contributions"])
    assert np.allclose(contribs.sum(axis=1), margins, atol=1e-4)
    # the served probability is the isotonic map of sigmoid(margin) ...
    mapped = np.interp(1 / (1 + np.exp(-margins)), c["knots"], c["values"])
    assert np.allclose(mapped, ref["probabilities"], atol=1e-5)
    # ... so a larger explained margin never means a lower churn probability
    order = np.argsort(margins, kind="mergesort")
    assert np.all(np.diff(np.array(ref["probabilities"])[order]) >= -1e-6)
    # and the graph's trees are xgboost's, uncalibrated: TreeSHAP over them gives these sums
    ens = read_ensemble(onnx.load(calibrated["dir"] / "model.onnx"))
    sess = ort.InferenceSession(str(calibrated["dir"] / "model.onnx"))
    (feats,) = sess.run(["features"], feeds_for(ref["rows"][:5], card))
    for x, w in zip(feats, ref["contributions"][:5], strict=True):
        assert np.allclose(shap_values(ens, x), w, atol=2e-4)


def test_uncalibrated_run_reports_before_only(tmp_path, synth_csv, capsys):
    spec = small_spec(synth_csv, calibration="none")
    code, summary, _ = run_cli(
        capsys, "train", "--spec", str(write_spec(tmp_path, spec)), "--output", str(tmp_path / "s")
    )
    assert code == 0
    m = json.loads((Path(summary["artifact"]) / "metrics.json").read_text())
    assert m["calibration"]["method"] == "none" and "calibrated" not in m["calibration"]
    assert m["calibration"]["uncalibrated"]["brier"] == m["brier"]


def test_the_example_spec_is_calibrated_and_keeps_the_shap_contract(trained):
    """The shared fixture (the runtime's recipe) now serves sigmoid-calibrated probabilities."""
    m = json.loads((trained["dir"] / "metrics.json").read_text())
    ref = json.loads((trained["dir"] / "reference.json").read_text())
    assert m["calibration"]["method"] == "sigmoid"
    assert m["calibration"]["calibrated"]["brier"] < m["calibration"]["uncalibrated"]["brier"]
    sums = np.array(ref["contributions"]).sum(axis=1)
    assert np.allclose(sums, _logit(ref["probabilities"]), atol=1e-4)


def test_calibrated_spec_runs_from_the_cli(tmp_path, synth_csv, capsys):
    spec = small_spec(synth_csv, calibration="sigmoid")
    code, summary, _ = run_cli(
        capsys, "train", "--spec", str(write_spec(tmp_path, spec)), "--output", str(tmp_path / "s")
    )
    assert code == 0 and summary["calibration"] == "sigmoid"
