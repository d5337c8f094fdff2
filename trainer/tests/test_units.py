"""Pure pieces: spec defaults, threshold choice, split, summary size, synthetic data."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import EXAMPLE_SPEC, example_spec

from churn_trainer.cli import SUMMARY_MAX_BYTES, summary_line
from churn_trainer.errors import SpecError
from churn_trainer.spec import load_spec, parse_spec
from churn_trainer.synth import synthetic_frame
from churn_trainer.train import best_threshold, resolve_hyperparameters, split_rows

SEED_COLUMNS = [
    "RowNumber",
    "CustomerId",
    "Surname",
    "CreditScore",
    "Geography",
    "Gender",
    "Age",
    "Tenure",
    "Balance",
    "NumOfProducts",
    "HasCrCard",
    "IsActiveMember",
    "EstimatedSalary",
    "Exited",
    "Complain",
    "Satisfaction Score",
    "Card Type",
    "Point Earned",
]


def test_example_spec_is_the_seed_demo():
    spec = load_spec(EXAMPLE_SPEC)
    assert spec.schema.idColumn == "CustomerId"
    assert set(spec.schema.drop) == {"RowNumber", "Surname", "Complain"}
    assert len(spec.schema.features) == 13
    assert (spec.split.testFraction, spec.split.seed, spec.split.stratified) == (0.1, 42, True)
    assert spec.threshold.policy in ("maxF1", "maxF2")
    assert spec.expectations.maxUnivariateRocAuc == 0.95


def test_defaults_fill_a_minimal_spec():
    spec = parse_spec(
        {
            "dataset": "x.csv",
            "schema": {"target": "churned", "features": [{"name": "a", "type": "numeric"}]},
        }
    )
    assert spec.split.testFraction == 0.1 and spec.split.validationFraction == 0.1
    assert spec.threshold.policy == "maxF2"
    assert spec.gates == {"maxRocAuc": 0.995}
    assert spec.schema.target.positive == 1
    assert spec.model.hyperparameters["n_estimators"] > 0


@pytest.mark.parametrize(
    ("patch", "words"),
    [
        ({"bogus": 1}, "unknown key"),
        ({"model": {"hyperparameters": {"booster": "gblinear"}}}, "booster"),
        ({"model": {"scalePosWeight": -1}}, "scalePosWeight"),
        ({"expectations": {"minPositiveRate": 0.6, "maxPositiveRate": 0.4}}, "minPositiveRate"),
        ({"gates": {"minLift": 2}}, "unknown key"),
    ],
)
def test_spec_rejections_name_the_field(patch, words):
    raw = example_spec()
    raw.update(patch)
    with pytest.raises(SpecError, match=words):
        parse_spec(raw)


def test_feature_level_contradictions():
    raw = example_spec()
    raw["schema"]["features"][11] = {"name": "Card Type", "type": "ordinal"}
    with pytest.raises(SpecError, match="order"):
        parse_spec(raw)
    raw = example_spec()
    raw["schema"]["features"][1]["values"] = ["France", "France"]
    with pytest.raises(SpecError, match="duplicate"):
        parse_spec(raw)


def brute_force_best(y, p, beta):
    best = (-1.0, None)
    for t in np.unique(p):
        pred = p >= t
        tp = np.sum(pred & (y == 1))
        prec = tp / max(pred.sum(), 1)
        rec = tp / y.sum()
        f = (1 + beta**2) * prec * rec / (beta**2 * prec + rec) if prec + rec else 0.0
        if f > best[0]:
            best = (f, t)
    return best


@pytest.mark.parametrize("beta", [1.0, 2.0])
def test_best_threshold_matches_brute_force(beta):
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.25).astype(int)
    p = np.clip(0.3 * y + rng.random(400) * 0.7, 0, 1).round(3)  # ties included
    t, f = best_threshold(y, p, beta)
    want_f, want_t = brute_force_best(y, p, beta)
    assert f == pytest.approx(want_f)
    lower = p[p < want_t].max() if (p < want_t).any() else 0.0
    assert lower < t <= want_t  # between the best cut and the next lower score


def test_split_is_disjoint_stratified_and_matches_the_seed_notebook():
    y = np.array([1] * 204 + [0] * 796, dtype=np.int8)
    spec = load_spec(EXAMPLE_SPEC)
    parts = split_rows(y, spec, [])
    all_rows = np.concatenate([parts.train, parts.validation, parts.test])
    assert len(np.unique(all_rows)) == len(y) == len(all_rows)
    assert len(parts.test) == 100 and y[parts.test].sum() == 20
    assert len(parts.validation) == 90


def test_scale_pos_weight_auto_is_negatives_over_positives():
    spec = load_spec(EXAMPLE_SPEC)
    y = np.array([1] * 20 + [0] * 80)
    assert resolve_hyperparameters(spec, y)["scale_pos_weight"] == 4.0


def test_summary_line_stays_under_the_termination_message_limit():
    summary = {
        "status": "validationFailed",
        "exitCode": 2,
        "message": "x" * 300,
        "failedChecks": [
            {"name": "feature.type", "column": f"col{i}", "message": "bad value " * 20}
            for i in range(200)
        ],
    }
    line = summary_line(summary)
    assert len(line.encode()) <= SUMMARY_MAX_BYTES and "\n" not in line
    parsed = json.loads(line)
    assert parsed["status"] == "validationFailed" and parsed["failedChecksTruncated"]
    assert len(parsed["failedChecks"]) > 0


def test_synthetic_data_looks_like_the_seed():
    a = synthetic_frame(5000, 3)
    assert list(a.columns) == SEED_COLUMNS
    assert a.equals(synthetic_frame(5000, 3))
    assert 0.17 < a.Exited.mean() < 0.24
    assert a.CustomerId.is_unique
    assert (a.Complain == a.Exited).mean() > 0.99
    assert set(a.Geography) == {"France", "Germany", "Spain"}


def test_rank_auc_matches_sklearn_with_ties():
    from sklearn.metrics import roc_auc_score

    from churn_trainer.validate import rank_auc

    rng = np.random.default_rng(1)
    y = (rng.random(2000) < 0.3).astype(float)
    score = np.round(rng.random(2000) + 0.3 * y, 1)
    assert rank_auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)
