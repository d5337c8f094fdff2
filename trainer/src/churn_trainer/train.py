"""Splitting, fitting xgboost on the encoded matrix, and choosing the decision threshold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import xgboost as xgb
from sklearn.model_selection import train_test_split

from .cpus import available_cpus
from .data import check
from .errors import DataValidationError
from .spec import Spec


@dataclass
class SplitIndices:
    """Row indices of the three disjoint parts."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def split_rows(y: np.ndarray, spec: Spec, checks: list[dict[str, Any]]) -> SplitIndices:
    """Test split first (same call as the seed notebook), then a validation fold from the rest."""
    sp = spec.split
    idx = np.arange(len(y))
    try:
        rest, test = train_test_split(
            idx,
            test_size=sp.testFraction,
            random_state=sp.seed,
            stratify=y if sp.stratified else None,
        )
        train, val = train_test_split(
            rest,
            test_size=sp.validationFraction,
            random_state=sp.seed,
            stratify=y[rest] if sp.stratified else None,
        )
    except ValueError as e:
        entry = check(
            "split.feasible",
            False,
            {"rows": len(y), "positives": int(y.sum())},
            "each part gets both classes",
            f"cannot split {len(y)} rows into train/validation/test: {e}",
        )
        checks.append(entry)
        raise DataValidationError(entry["message"], checks) from e
    for name, part in (("train", train), ("validation", val), ("test", test)):
        n_pos = int(y[part].sum())
        if n_pos == 0 or n_pos == len(part):
            entry = check(
                "split.feasible",
                False,
                {name: len(part), "positives": n_pos},
                "each part gets both classes",
                f"the {name} part ({len(part)} rows) has a single class; need more rows",
            )
            checks.append(entry)
            raise DataValidationError(entry["message"], checks)
    return SplitIndices(np.sort(train), np.sort(val), np.sort(test))


def resolve_hyperparameters(spec: Spec, y_train: np.ndarray) -> dict[str, Any]:
    """The exact parameters passed to xgboost (scale_pos_weight resolved, seed and threads set)."""
    hp = dict(spec.model.hyperparameters)
    spw = spec.model.scalePosWeight
    if spw == "auto":
        pos = float(y_train.sum())
        hp["scale_pos_weight"] = round((len(y_train) - pos) / pos, 6)
    elif spw is not None:
        hp["scale_pos_weight"] = float(spw)
    hp.setdefault("random_state", spec.split.seed)
    hp.setdefault("n_jobs", available_cpus())
    hp["objective"] = "binary:logistic"
    return hp


def fit(
    x: np.ndarray,
    y: np.ndarray,
    params: dict[str, Any],
    early_stopping: tuple[int, np.ndarray, np.ndarray] | None = None,
) -> xgb.Booster:
    """Fits the classifier on the encoded float32 matrix; with `early_stopping` (rounds, the
    validation fold's x and y), returns only the trees up to the best validation round."""
    if early_stopping is None:
        model = xgb.XGBClassifier(**params)
        model.fit(x, y.astype(np.int32))
        return model.get_booster()
    rounds, x_val, y_val = early_stopping
    model = xgb.XGBClassifier(**params, early_stopping_rounds=rounds)
    model.fit(x, y.astype(np.int32), eval_set=[(x_val, y_val.astype(np.int32))], verbose=False)
    booster = model.get_booster()
    return booster[: model.best_iteration + 1]


def best_threshold(y: np.ndarray, p: np.ndarray, beta: float) -> tuple[float, float]:
    """Threshold maximising F-beta of `p >= t`; returns (threshold, F-beta).

    The threshold sits halfway between the best cut's score and the next lower distinct score,
    so it does not hinge on one validation row.
    """
    order = np.argsort(-p, kind="mergesort")
    ps, ys = p[order], y[order]
    tp = np.cumsum(ys)
    k = np.arange(1, len(ys) + 1)
    last = np.r_[ps[1:] != ps[:-1], True]  # last index of each distinct score
    tp, k, cut = tp[last], k[last], ps[last]
    total_pos = ys.sum()
    precision = tp / k
    recall = tp / max(total_pos, 1)
    b2 = beta * beta
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(
            precision + recall > 0, (1 + b2) * precision * recall / (b2 * precision + recall), 0.0
        )
    i = int(np.argmax(f))
    lower = cut[i + 1] if i + 1 < len(cut) else 0.0
    t = float((cut[i] + lower) / 2.0)
    return t, float(f[i])
