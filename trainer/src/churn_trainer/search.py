"""Hyperparameter search: seeded random search with stratified k-fold CV on the training rows.

scikit-learn's ParameterSampler draws the candidates (scipy distributions, one seeded stream):
no new dependency, and random search is as good as any sampler at tens of trials over a handful
of xgboost parameters. Optuna's TPE would add SQLAlchemy, Alembic and more to the Job's image
for little gain at this scale. Same spec and data -> same candidates, same folds, same scores,
same winner, so the same digest (with `trials`; a `budgetSeconds` cut depends on the machine).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import xgboost as xgb
from scipy.stats import loguniform, randint, uniform
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score
from sklearn.model_selection import ParameterSampler, StratifiedKFold

from .spec import SearchSpec
from .train import best_threshold


def _f2(y: np.ndarray, p: np.ndarray) -> float:
    return best_threshold(y, p, 2.0)[1]


def _neg_log_loss(y: np.ndarray, p: np.ndarray) -> float:
    return -log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1])


# metric name -> score of (labels, probabilities), higher is better
SCORERS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "rocAuc": roc_auc_score,
    "prAuc": average_precision_score,
    "logLoss": _neg_log_loss,
    "f2": _f2,
}


def _distribution(spec: dict[str, Any]):
    """A scipy distribution (or list) for one parameter of `space`."""
    if "choice" in spec:
        return list(spec["choice"])
    if "int" in spec:
        lo, hi = spec["int"]
        return randint(lo, hi + 1)
    lo, hi = spec["float"]
    return loguniform(lo, hi) if spec.get("log") else uniform(lo, hi - lo)


def candidates(search: SearchSpec, seed: int, n: int) -> list[dict[str, Any]]:
    """The first `n` candidates of the seeded stream (a prefix of any longer run's)."""
    space = {k: _distribution(v) for k, v in sorted(search.space.items())}
    out = []
    for c in ParameterSampler(space, n_iter=n, random_state=seed):
        out.append({k: (float(round(v, 6)) if isinstance(v, float) else v) for k, v in c.items()})
    return out


def _fit(x, y, params, eval_set, rounds):
    kw = {"early_stopping_rounds": rounds} if rounds else {}
    model = xgb.XGBClassifier(**params, **kw)
    model.fit(x, y, eval_set=[eval_set] if rounds else None, verbose=False)
    return model


def cross_validate(
    x: np.ndarray,
    y: np.ndarray,
    params: dict[str, Any],
    search: SearchSpec,
    seed: int,
    rounds: int | None,
) -> list[float]:
    """The metric on each of `search.folds` stratified folds of the training rows."""
    scorer = SCORERS[search.metric]
    folds = StratifiedKFold(n_splits=search.folds, shuffle=True, random_state=seed)
    scores = []
    for fit_rows, held_out in folds.split(x, y):
        held = (x[held_out], y[held_out])
        model = _fit(x[fit_rows], y[fit_rows], params, held, rounds)
        scores.append(float(scorer(y[held_out], model.predict_proba(held[0])[:, 1])))
    return scores


def run_search(
    x: np.ndarray,
    y: np.ndarray,
    base: dict[str, Any],
    search: SearchSpec,
    seed: int,
    rounds: int | None,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Scores every candidate by CV on the training rows (`x`, `y`); returns the report with
    the best candidate under `best` (ties go to the earlier trial)."""
    t0 = time.monotonic()
    limit = search.trials if search.trials is not None else 10_000
    trials = []
    for i, cand in enumerate(candidates(search, seed, limit)):
        if search.budgetSeconds is not None and time.monotonic() - t0 >= search.budgetSeconds:
            break
        scores = cross_validate(x, y, {**base, **cand}, search, seed, rounds)
        trials.append(
            {"params": cand, "mean": float(np.mean(scores)), "std": float(np.std(scores))}
        )
        log(f"search trial {i + 1}: {search.metric} {trials[-1]['mean']:.4f} {cand}")
    best = max(range(len(trials)), key=lambda i: (trials[i]["mean"], -i))
    r = lambda v: round(v, 6)  # noqa: E731
    return {
        "metric": search.metric,
        "folds": search.folds,
        "trials": len(trials),
        "best": trials[best]["params"],
        "bestTrial": best + 1,
        "cvMean": r(trials[best]["mean"]),
        "cvStd": r(trials[best]["std"]),
        "nJobs": base.get("n_jobs"),
        "seconds": round(time.monotonic() - t0, 2),
        "history": [{**t, "mean": r(t["mean"]), "std": r(t["std"])} for t in trials],
    }
