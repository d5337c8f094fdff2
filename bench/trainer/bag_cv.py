"""Bagging the search's fold models (`model.search.refit: bagFolds`) or its best candidates
(`bagTop`) against one refit (`single`), judged by cross-validation on the training rows only
(issue 13).

For each data set: the search picks its parameters on the training rows, as the trainer does.
Then an outer stratified k-fold over the training rows stands in for the test set: on each
outer fold's remaining rows the trainer's own split is replayed (a validation part of the
spec's fraction, the rest to fit), and both refits are built from them exactly as the trainer
builds them (single: one model early-stopped on the validation part; bagFolds: the search's
folds of the fit rows, each early-stopped on its own held-out fold; bagTop: the search's
TOP_MEMBERS best candidates, each fitted as single is), calibrated on the
validation part with the spec's method, and scored on the outer fold. The test rows are never
read. The parameters come from a search over all the training rows (outer folds included),
which favours neither refit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xgboost as xgb
from churn_trainer.bag import Bag
from churn_trainer.calibrate import fit_calibration
from churn_trainer.search import fold_boosters, run_search, top_params
from churn_trainer.train import fit
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

OUTER_FOLDS = 5
CV_METRICS = ("rocAuc", "prAuc", "logLoss", "brier")
BAGS = ("bagFolds", "bagTop")  # each compared with single


def _scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {
        "rocAuc": float(roc_auc_score(y, p)),
        "prAuc": float(average_precision_score(y, p)),
        "logLoss": float(log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1])),
        "brier": float(np.mean((p - y) ** 2)),
    }


def _calibrated(model, cal_method: str, x_val, y_val, x_out) -> np.ndarray:
    def margin(x: np.ndarray) -> np.ndarray:
        return model.predict(xgb.DMatrix(x, missing=np.nan), output_margin=True)

    cal = fit_calibration(cal_method, margin(x_val), y_val)
    return cal.probability(margin(x_out))


def nested_cv(
    name: str, x: np.ndarray, y: np.ndarray, base: dict[str, Any], spec: Any
) -> dict[str, Any]:
    """Outer-fold scores of both refits on the training rows `x`, `y` of one data set."""
    sr, seed, rounds = spec.model.search, spec.split.seed, spec.model.earlyStoppingRounds
    print(f"[bench] bag vs single (nested CV) {name}: search ...", flush=True)
    report = run_search(x, y, base, sr, seed, rounds, lambda _: None)
    params = {**base, **report["best"]}
    top = [{**base, **p} for p in top_params(report)]
    folds: list[dict[str, dict[str, float]]] = []
    outer = StratifiedKFold(OUTER_FOLDS, shuffle=True, random_state=seed)
    for inner, held in outer.split(np.zeros(len(y)), y):
        fit_rows, val = train_test_split(
            inner, test_size=spec.split.validationFraction, random_state=seed, stratify=y[inner]
        )
        stop = None if rounds is None else (rounds, x[val], y[val])
        models = {
            "single": fit(x[fit_rows], y[fit_rows], params, stop),
            "bagFolds": Bag(fold_boosters(x[fit_rows], y[fit_rows], params, sr, seed, rounds)),
            "bagTop": Bag([fit(x[fit_rows], y[fit_rows], p, stop) for p in top]),
        }
        folds.append(
            {
                label: _scores(
                    y[held],
                    _calibrated(m, spec.calibration.method, x[val], y[val], x[held]),
                )
                for label, m in models.items()
            }
        )
    out: dict[str, Any] = {"dataset": name, "rows": len(y), "outerFolds": OUTER_FOLDS}
    for k in CV_METRICS:
        a = np.array([f["single"][k] for f in folds])
        out[k] = {"single": round(float(a.mean()), 4)}
        for bag in BAGS:
            b = np.array([f[bag][k] for f in folds])
            better = (b > a) if k in ("rocAuc", "prAuc") else (b < a)
            out[k][bag] = {
                "mean": round(float(b.mean()), 4),
                "diff": round(float((b - a).mean()), 4),
                "diffStd": round(float((b - a).std()), 4),
                "betterFolds": int(better.sum()),
            }
    return out


def print_nested(rows: list[dict[str, Any]]) -> None:
    """One line per data set, metric and bag: single, the bag, mean difference (std), wins."""
    head = f"{'bag vs single (CV)':<26}{'metric':<9}{'bag':<10}{'single':>9}{'bag':>9}{'diff':>9}"
    head += f"{'std':>8}  bag better in"
    print(head)
    print("-" * len(head))
    for r in rows:
        for k in CV_METRICS:
            for bag in BAGS:
                m = r[k][bag]
                print(
                    f"{r['dataset']:<26}{k:<9}{bag:<10}{r[k]['single']:>9.4f}{m['mean']:>9.4f}"
                    f"{m['diff']:>+9.4f}{m['diffStd']:>8.4f}  {m['betterFolds']}/{r['outerFolds']}"
                )
