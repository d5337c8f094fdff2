"""Hyperparameter search (seeded CV on the training rows), early stopping and the CPU limit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli, small_spec, write_spec

from churn_trainer.cpus import available_cpus
from churn_trainer.errors import SpecError
from churn_trainer.search import candidates
from churn_trainer.spec import DEFAULT_SEARCH_SPACE, DEFAULT_SEARCH_TRIALS, parse_spec

# small and fast: a handful of shallow trials
SEARCH = {
    "trials": 3,
    "folds": 3,
    "metric": "prAuc",
    "space": {
        "max_depth": {"int": [2, 4]},
        "learning_rate": {"float": [0.05, 0.3], "log": True},
        "n_estimators": {"int": [20, 40]},
    },
}


def _train(tmp_path, capsys, spec, name="s"):
    code, summary, _ = run_cli(
        capsys,
        "train",
        "--spec",
        str(write_spec(tmp_path, spec, f"{name}.yaml")),
        "--output",
        str(tmp_path / name),
    )
    assert code == 0, summary
    d = Path(summary["artifact"])
    return (
        summary,
        json.loads((d / "metrics.json").read_text()),
        json.loads((d / "model.json").read_text()),
    )


@pytest.fixture(scope="module")
def searched(tmp_path_factory, synth_csv):
    return small_spec(synth_csv, model={"scalePosWeight": "auto", "search": dict(SEARCH)})


def test_search_is_reproducible_and_reported(tmp_path, capsys, searched):
    s1, m1, card = _train(tmp_path, capsys, searched, "a")
    s2, m2, _ = _train(tmp_path, capsys, searched, "b")
    assert s1["digest"] == s2["digest"]  # same spec and data -> same model bytes
    search = m1["search"]
    assert search["trials"] == 3 and len(search["history"]) == 3 and search["folds"] == 3
    assert [t["params"] for t in search["history"]] == [
        t["params"] for t in m2["search"]["history"]
    ]
    best = max(search["history"], key=lambda t: t["mean"])
    assert search["best"] == best["params"] and search["cvMean"] == best["mean"]
    assert search["cvStd"] == best["std"] and search["cvStd"] >= 0
    for k, v in search["best"].items():
        assert card["hyperparameters"][k] == v  # the winner is what was trained
    assert card["search"] == {k: v for k, v in search.items() if k != "history"}
    assert s1["search"]["best"] == search["best"] and s1["search"]["cvMean"] == search["cvMean"]
    assert search["nJobs"] == card["hyperparameters"]["n_jobs"] == available_cpus()


def test_search_never_sees_validation_or_test_rows(searched, synth_csv, monkeypatch):
    import churn_trainer.pipeline as pipeline

    seen = {}

    def spy(x, y, *args, **kwargs):
        seen["rows"] = len(x)
        seen["x"] = x
        return {"best": {}, "metric": "prAuc", "cvMean": 0.0}

    monkeypatch.setattr(pipeline, "run_search", spy)
    spec = parse_spec(searched)
    data = pipeline.validate_data(spec, log=lambda _: None)
    model = pipeline.train_model(data, spec, log=lambda _: None)
    assert seen["rows"] == len(data.parts.train)
    assert np.array_equal(seen["x"], model.x[data.parts.train], equal_nan=True)


def test_candidates_are_a_seeded_prefix_after_the_specs_own():
    spec = parse_spec(
        {**small_spec(Path("x.csv")), "model": {"search": {"trials": 5}}}
    ).model.search
    own = {"max_depth": 3, "learning_rate": 0.05, "n_estimators": 60, "tree_method": "hist"}
    five, ten = candidates(spec, 42, 5, own), candidates(spec, 42, 10, own)
    assert five == ten[:5] and candidates(spec, 43, 5, own) != five
    # trial 1 is the spec's hyperparameters (only the searched keys it sets)
    assert ten[0] == {"learning_rate": 0.05, "max_depth": 3}
    for c in ten[1:]:
        assert set(c) == set(DEFAULT_SEARCH_SPACE)
        assert 2 <= c["max_depth"] <= 6 and 0.01 <= c["learning_rate"] <= 0.3
    assert candidates(spec, 42, 1, own) == [ten[0]]


def test_search_never_picks_worse_than_the_spec_on_cv(tmp_path, capsys, synth_csv):
    """Trial 1 is the spec's own hyperparameters and the best is a max over every trial, so
    the winner's CV score is at least the unsearched model's, and an equal score keeps it.
    A space that can only be worse (tiny learning rates, few trees) must keep the spec's."""
    spec = small_spec(synth_csv)
    spec["model"]["search"] = {
        "trials": 4,
        "folds": 3,
        "space": {"learning_rate": {"float": [0.0001, 0.0002], "log": True}},
    }
    _, metrics, card = _train(tmp_path, capsys, spec)
    s = metrics["search"]
    assert s["history"][0]["params"] == {"learning_rate": 0.05}
    assert s["defaultCvMean"] == s["history"][0]["mean"]
    assert s["cvMean"] >= s["defaultCvMean"]
    assert s["bestTrial"] == 1 and s["best"] == {"learning_rate": 0.05}
    assert card["hyperparameters"]["learning_rate"] == 0.05


def test_search_defaults(tmp_path):
    spec = parse_spec({**small_spec(tmp_path / "x.csv"), "model": {"search": {}}})
    s = spec.model.search
    assert (s.trials, s.folds, s.metric) == (DEFAULT_SEARCH_TRIALS, 5, "rocAuc")
    assert s.space == DEFAULT_SEARCH_SPACE
    budget = parse_spec(
        {**small_spec(tmp_path / "x.csv"), "model": {"search": {"budgetSeconds": 60}}}
    ).model.search
    assert budget.trials is None and budget.budgetSeconds == 60


@pytest.mark.parametrize(
    ("search", "words"),
    [
        ({"trials": 0}, "trials"),
        ({"folds": 1}, "folds"),
        ({"metric": "accuracy"}, "metric"),
        ({"budgetSeconds": -1}, "budgetSeconds"),
        ({"space": {}}, "at least one"),
        ({"space": {"objective": {"choice": ["binary:hinge"]}}}, "cannot be searched"),
        ({"space": {"n_jobs": {"int": [1, 4]}}}, "cannot be searched"),
        ({"space": {"max_depth": {"int": [8, 2]}}}, "low > high"),
        ({"space": {"max_depth": {"int": [2, 8], "float": [1, 2]}}}, "exactly one"),
        ({"space": {"max_depth": {"int": [2, 8], "log": True}}}, "log is for float"),
        ({"space": {"eta": {"float": [0, 1], "log": True}}}, "low > 0"),
        ({"trials": 3, "seed": 1}, "unknown key"),
    ],
)
def test_search_spec_rejections(tmp_path, search, words):
    with pytest.raises(SpecError, match=words):
        parse_spec({**small_spec(tmp_path / "x.csv"), "model": {"search": search}})


def test_early_stopping_cuts_trees_on_the_validation_fold(tmp_path, capsys, synth_csv):
    spec = small_spec(synth_csv)
    spec["model"]["hyperparameters"].update(n_estimators=2000, learning_rate=0.3)
    spec["model"]["earlyStopping"] = {"rounds": 10}
    _, _, card = _train(tmp_path, capsys, spec)
    assert card["earlyStopping"]["rounds"] == 10
    assert card["earlyStopping"]["trees"] == card["onnx"]["trees"] < 2000
    assert card["parity"]["passed"]
    with pytest.raises(SpecError, match=r"earlyStopping\.rounds"):
        parse_spec({**spec, "model": {"earlyStopping": {"rounds": 0}}})


@pytest.mark.parametrize(
    ("cpu_max", "want"),
    [("200000 100000\n", 2), ("150000 100000\n", 2), ("50000 100000\n", 1), ("max 100000\n", None)],
)
def test_cpus_come_from_the_cgroup_limit(tmp_path, cpu_max, want):
    import os

    f = tmp_path / "cpu.max"
    f.write_text(cpu_max)
    host = len(os.sched_getaffinity(0))
    assert available_cpus(f) == (host if want is None else min(want, host))
    assert available_cpus(tmp_path / "absent") == host


def test_search_scores_do_not_depend_on_parallel_workers():
    """Folds run in parallel, one thread per fit: one worker or two, the same trials and
    scores (so the digest does not depend on the machine's CPU count)."""
    from churn_trainer.search import run_search

    rng = np.random.default_rng(3)
    x = rng.normal(size=(600, 5)).astype(np.float32)
    y = (x[:, 0] + rng.normal(size=600) > 0.5).astype(int)
    spec = parse_spec(
        {**small_spec(Path("x.csv")), "model": {"search": dict(SEARCH, trials=4)}}
    ).model.search
    base = {"n_estimators": 30, "random_state": 1, "n_jobs": 2, "tree_method": "hist"}
    runs = [run_search(x, y, base, spec, 5, 5, lambda _: None, workers=w) for w in (1, 2)]
    assert runs[0]["history"] == runs[1]["history"]
    assert runs[0]["best"] == runs[1]["best"] and runs[1]["workers"] == 2
