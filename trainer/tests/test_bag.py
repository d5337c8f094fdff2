"""`model.search.refit: bagFolds`: the search's fold models averaged into one tree ensemble;
`bagTop`: the best candidates by CV, each refitted as `single` is, averaged the same way.

The graph must reproduce the average of the fold boosters (parity, as the gate checks it), its
TreeSHAP must be the average of theirs and sum to the margin, the same spec and data give the
same digest, and no bagged model may have seen a validation row (calibration and threshold).
Also here: OMP_WAIT_POLICY=PASSIVE set by the package before xgboost loads.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
import xgboost as xgb
from conftest import small_spec
from test_search import SEARCH
from treeshap_reference import read_ensemble, shap_values

import churn_trainer.pipeline as pipeline
import churn_trainer.search as search_mod
from churn_trainer.bag import Bag
from churn_trainer.errors import SpecError
from churn_trainer.spec import parse_spec
from churn_trainer.train import fit, resolve_hyperparameters

PARITY = 1e-5


def _spec(synth_csv, refit: str = "bagFolds", calibration: str = "none"):
    model = {
        "scalePosWeight": "auto",
        "hyperparameters": {"n_estimators": 200, "max_depth": 3, "tree_method": "hist"},
        "search": {**copy.deepcopy(SEARCH), "refit": refit},
        "earlyStopping": {"rounds": 10},
    }
    return parse_spec(small_spec(synth_csv, model=model, calibration={"method": calibration}))


def _quiet(_: str) -> None:
    pass


def _train(spec):
    data = pipeline.validate_data(spec, _quiet)
    model = pipeline.train_model(data, spec, _quiet)
    return data, model


@pytest.fixture(scope="module", params=["none", "sigmoid"])
def bagged(request, synth_csv):
    spec = _spec(synth_csv, calibration=request.param)
    data, model = _train(spec)
    return spec, data, model


def _mean_margin(boosters: list[xgb.Booster], x: np.ndarray) -> np.ndarray:
    dm = xgb.DMatrix(x, missing=np.nan)
    return np.mean([b.predict(dm, output_margin=True) for b in boosters], axis=0, dtype=np.float64)


def test_the_graph_is_the_average_of_the_fold_boosters(bagged, synth_csv):
    spec, data, model = bagged
    assert isinstance(model.booster, Bag)
    boosters = model.booster.boosters
    assert len(boosters) == spec.model.search.folds == model.search["bag"]["members"]
    trees = [b.num_boosted_rounds() for b in boosters]
    assert model.search["bag"]["trees"] == trees and model.trees.n_trees == sum(trees)
    assert model.search["refit"] == "bagFolds"
    rows = np.arange(len(data.y))
    margin = model.calibration.margin(_mean_margin(boosters, model.x))
    expected = 1.0 / (1.0 + np.exp(-margin))
    served = model.probability(rows).astype(np.float64)
    assert np.max(np.abs(served - expected)) <= PARITY
    # the pipeline's own parity gate sees the same
    ev = pipeline.evaluate_model(data, model, spec, _quiet)
    assert ev.parity["passed"] and ev.parity["maxAbsDiff"] <= PARITY
    # bagging is not the single refit: a different model
    _, single = _train(_spec(synth_csv, "single", spec.calibration.method))
    assert single.digest != model.digest


def test_graph_shap_is_the_average_of_the_boosters_and_sums_to_the_margin(bagged):
    _, data, model = bagged
    ens = read_ensemble(onnx.load_from_string(model.onnx_bytes))
    rows = data.parts.test[:15]
    x = model.x[rows]
    graph = np.array([shap_values(ens, r) for r in x])
    dm = xgb.DMatrix(x, missing=np.nan)
    each = [b.predict(dm, pred_contribs=True) for b in model.booster.boosters]
    mean = model.calibration.contributions(np.mean(each, axis=0, dtype=np.float64))
    assert np.allclose(graph, mean, atol=1e-4)
    margin = model.calibration.margin(_mean_margin(model.booster.boosters, x))
    assert np.allclose(graph.sum(axis=1), margin, atol=1e-4)
    assert np.allclose(model.booster.predict(dm, pred_contribs=True), np.mean(each, axis=0))


def test_same_spec_and_data_give_the_same_digest(bagged):
    spec, _, model = bagged
    _, again = _train(spec)
    assert again.digest == model.digest


def test_no_bagged_model_sees_a_validation_or_test_row(synth_csv, monkeypatch):
    """Every fit and early-stopping row of every bagged model is a training row: the
    validation fold (calibration, threshold) and the test rows stay unseen."""
    seen: list[tuple[np.ndarray, np.ndarray]] = []
    real_fit, real_bag = search_mod._fold_fit, pipeline.fold_boosters
    bagging = {"on": False}

    def spy_fit(x, y, fold, params, rounds):
        if bagging["on"]:
            seen.append((x[fold[0]], x[fold[1]]))
        return real_fit(x, y, fold, params, rounds)

    def spy_bag(*args, **kwargs):
        bagging["on"] = True
        try:
            return real_bag(*args, **kwargs)
        finally:
            bagging["on"] = False

    monkeypatch.setattr(search_mod, "_fold_fit", spy_fit)
    monkeypatch.setattr(pipeline, "fold_boosters", spy_bag)
    spec = _spec(synth_csv)
    data, model = _train(spec)
    assert len(seen) == spec.model.search.folds

    def keys(a: np.ndarray) -> set[bytes]:
        return {r.tobytes() for r in np.ascontiguousarray(a)}

    train, unseen = keys(model.x[data.parts.train]), keys(model.x[data.parts.validation])
    unseen |= keys(model.x[data.parts.test])
    assert not train & unseen  # rows distinguishable, so the check below can fail
    for fit_rows, stop_rows in seen:
        assert keys(fit_rows) <= train and keys(stop_rows) <= train
        assert not keys(fit_rows) & keys(stop_rows)  # stopped on its own held-out fold


def test_bag_top_averages_the_best_candidates_each_refitted_as_single_is(synth_csv):
    """bagTop's members are the `top` trials, best CV score first, each the very booster
    `single` would fit with that candidate (training rows, stopped on the validation fold);
    the graph serves their average and the same spec and data give the same digest."""
    spec = _spec(synth_csv, "bagTop", "sigmoid")
    data, model = _train(spec)
    report = model.search
    means = [report["history"][t - 1]["mean"] for t in report["top"]]
    n = min(search_mod.TOP_MEMBERS, report["trials"])
    assert len(report["top"]) == n == report["bag"]["members"] == len(model.booster.boosters)
    assert means == sorted(means, reverse=True) and report["top"][0] == report["bestTrial"]
    base = resolve_hyperparameters(spec, data.y[data.parts.train])
    train, val = data.parts.train, data.parts.validation
    stop = (spec.model.earlyStoppingRounds, model.x[val], data.y[val])
    for params, member in zip(search_mod.top_params(report), model.booster.boosters, strict=True):
        alone = fit(model.x[train], data.y[train], {**base, **params}, stop)
        dm = xgb.DMatrix(model.x[data.parts.test], missing=np.nan)
        assert np.array_equal(alone.predict(dm), member.predict(dm))
    margin = model.calibration.margin(_mean_margin(model.booster.boosters, model.x))
    served = model.probability(np.arange(len(data.y))).astype(np.float64)
    assert np.max(np.abs(served - 1.0 / (1.0 + np.exp(-margin)))) <= PARITY
    assert pipeline.evaluate_model(data, model, spec, _quiet).parity["passed"]
    assert _train(spec)[1].digest == model.digest


def test_top_is_at_most_top_members_trials_best_first(synth_csv):
    spec = _spec(synth_csv, "bagTop")
    search = copy.copy(spec.model.search)
    search.trials = search_mod.TOP_MEMBERS + 2
    data = pipeline.validate_data(spec, _quiet)
    x = data.table.features.select_dtypes("number").to_numpy(np.float32)[data.parts.train]
    y = data.y[data.parts.train]
    base = resolve_hyperparameters(spec, y)
    report = search_mod.run_search(x, y, base, search, 7, 10, _quiet)
    ranked = sorted(report["history"], key=lambda t: -t["mean"])
    assert len(report["top"]) == search_mod.TOP_MEMBERS
    assert [report["history"][t - 1] for t in report["top"]] == ranked[: search_mod.TOP_MEMBERS]


def test_refit_spec():
    assert parse_spec(small_spec(os.devnull, model={"search": {}})).model.search.refit == "single"
    assert (
        parse_spec(small_spec(os.devnull, model={"search": {"refit": "bagTop"}})).model.search.refit
        == "bagTop"
    )
    with pytest.raises(SpecError, match="refit"):
        parse_spec(small_spec(os.devnull, model={"search": {"refit": "bag"}}))


@pytest.mark.parametrize(("given", "want"), [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_omp_wait_policy_is_passive_before_xgboost_loads(given, want):
    """The package sets OMP_WAIT_POLICY=PASSIVE on import, before any of its modules imports
    xgboost (libgomp reads it when loaded); a value from the environment wins."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if given is not None:
        env["OMP_WAIT_POLICY"] = given
    code = (
        "import sys, churn_trainer, os; assert 'xgboost' not in sys.modules; "
        "import churn_trainer.pipeline; print(os.environ['OMP_WAIT_POLICY'])"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == want
