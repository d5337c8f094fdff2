"""How high the test ROC-AUC can go at all (issue 13's seed goal, ROC-AUC >= 0.885).

An upper bound that cheats on purpose: CONFIGS candidates drawn from the search's own space
(its sampler, another seed) are each fitted on the training rows, and each is scored at the tree
count that is best *on the test rows* (every `step` trees). No honest procedure can choose
better than picking the best of these on the test rows, so the distribution says what a model
chosen without the test rows can expect (near the median) and what it cannot (the top is the
luck of 1,000 test rows, which the bootstrap interval of the searched model's ROC-AUC shows).

Not a test: nothing here is asserted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xgboost as xgb
from churn_trainer.search import candidates
from sklearn.metrics import roc_auc_score

CONFIGS = 150
SCORED_CUTS = 60  # tree counts scored per candidate, evenly spaced
SAMPLER_SEED = 1  # not the spec's split seed: candidates the trainer's own search never drew
TREES_PER_RATE = 30  # each candidate grows TREES_PER_RATE / learning_rate trees (max 3000)


def _best_cut(booster: xgb.Booster, x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    """(the best test ROC-AUC over the booster's tree counts, that count)."""
    dm = xgb.DMatrix(x, missing=np.nan)
    n = booster.num_boosted_rounds()
    step = max(1, n // SCORED_CUTS)
    return max(
        (float(roc_auc_score(y, booster.predict(dm, iteration_range=(0, k)))), k)
        for k in range(step, n + 1, step)
    )


def oracle_ceiling(
    name: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    base: dict[str, Any],
    search: Any,
    goal: float,
    searched: dict[str, Any],
) -> dict[str, Any]:
    """The test-set oracle over CONFIGS candidates of `search`'s space on `base`."""
    print(f"[bench] ceiling {name}: {CONFIGS} candidates scored on the test rows ...", flush=True)
    aucs = []
    for cand in candidates(search, SAMPLER_SEED, CONFIGS + 1, base)[1:]:
        trees = int(min(3000, TREES_PER_RATE / cand.get("learning_rate", base["learning_rate"])))
        params = {**base, **cand, "n_estimators": trees}
        model = xgb.XGBClassifier(**params)
        model.fit(x_train, y_train.astype(np.int32))
        aucs.append(_best_cut(model.get_booster(), x_test, y_test)[0])
    a = np.array(aucs)
    return {
        "dataset": name,
        "configs": len(a),
        "median": round(float(np.median(a)), 4),
        "p90": round(float(np.quantile(a, 0.9)), 4),
        "max": round(float(a.max()), 4),
        "goal": goal,
        "atOrAboveGoal": int((a >= goal).sum()),
        "searched": searched,  # the trainer's searched model: its test ROC-AUC and 90% interval
    }


def print_ceiling(rows: list[dict[str, Any]]) -> None:
    head = (
        f"{'ceiling (test-set oracle)':<26}{'configs':>8}{'median':>8}{'p90':>8}{'max':>8}"
        f"{'goal':>8}{'>= goal':>8}  searched model [90% bootstrap]"
    )
    print(head)
    print("-" * len(head))
    for c in rows:
        print(
            f"{c['dataset']:<26}{c['configs']:>8}{c['median']:>8.4f}{c['p90']:>8.4f}"
            f"{c['max']:>8.4f}{c['goal']:>8.3f}{c['atOrAboveGoal']:>8}  "
            f"{c['searched']['rocAuc']:.4f} {list(c['searched']['rocAuc90'])}"
        )
