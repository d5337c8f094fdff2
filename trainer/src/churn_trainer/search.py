"""Hyperparameter search: seeded random search with stratified k-fold CV on the training rows.

scikit-learn's ParameterSampler draws the candidates (scipy distributions, one seeded stream):
no new dependency. Trial 1 is always the spec's own hyperparameters, so the search can never
pick something worse on CV than not searching. With early stopping, each fold stops on its
held-out rows and the spec's `n_estimators` is only the cap: the trees a candidate needs are
found, not searched.

Where the time goes (bench/trainer/run.py measures it): one fit on the seed's ~6,500 fold rows
is ~0.15 CPU-seconds, yet with xgboost's two OpenMP threads on a loaded 2-core box it took ~4 s
of wall time (threads spin at each barrier waiting for a descheduled sibling). So the folds run
in parallel, one thread per fit (`n_jobs` fits at a time, from the container's CPU limit): no
barrier to wait at, and a score that does not depend on the machine's thread count. At this
cost per fit, pruning (Optuna, successive halving) has little left to save.

Same spec and data -> same candidates, same folds, same scores, same winner, so the same digest
(with `trials`; a `budgetSeconds` cut depends on the machine).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import xgboost as xgb
from scipy.stats import loguniform, randint, uniform
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score
from sklearn.model_selection import ParameterSampler, StratifiedKFold

from .spec import SearchSpec
from .train import best_threshold

# `refit: bagTop` averages this many of the best candidates (all of them with fewer trials)
TOP_MEMBERS = 5


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


def candidates(
    search: SearchSpec, seed: int, n: int, defaults: dict[str, Any]
) -> list[dict[str, Any]]:
    """The first `n` candidates: the spec's own hyperparameters (`defaults`' values of the
    space's keys it sets), then the seeded stream (a prefix of any longer run's)."""
    space = {k: _distribution(v) for k, v in sorted(search.space.items())}
    out: list[dict[str, Any]] = [{k: defaults[k] for k in sorted(space) if k in defaults}]
    for c in ParameterSampler(space, n_iter=max(n - 1, 0), random_state=seed):
        out.append({k: (float(round(v, 6)) if isinstance(v, float) else v) for k, v in c.items()})
    return out[:n]


def folds_of(y: np.ndarray, search: SearchSpec, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The search's stratified folds of the training rows: (fit rows, held-out rows) each."""
    split = StratifiedKFold(search.folds, shuffle=True, random_state=seed)
    return list(split.split(np.zeros(len(y)), y))


def _fold_fit(
    x: np.ndarray,
    y: np.ndarray,
    fold: tuple[np.ndarray, np.ndarray],
    params: dict[str, Any],
    rounds: int | None,
) -> tuple[xgb.XGBClassifier, int]:
    """One fold's model, fitted on its rows (stopping on the held-out rows with `rounds`),
    and the trees it keeps."""
    fit_rows, held_out = fold
    kw = {"early_stopping_rounds": rounds} if rounds else {}
    model = xgb.XGBClassifier(**params, **kw)
    held = [(x[held_out], y[held_out])] if rounds else None
    model.fit(x[fit_rows], y[fit_rows], eval_set=held, verbose=False)
    trees = model.best_iteration + 1 if rounds else model.get_booster().num_boosted_rounds()
    return model, int(trees)


def _fold_score(
    x: np.ndarray,
    y: np.ndarray,
    fold: tuple[np.ndarray, np.ndarray],
    params: dict[str, Any],
    rounds: int | None,
    scorer: Callable[[np.ndarray, np.ndarray], float],
) -> tuple[float, int]:
    """One fold's held-out score and the trees used."""
    model, trees = _fold_fit(x, y, fold, params, rounds)
    held_out = fold[1]
    return float(scorer(y[held_out], model.predict_proba(x[held_out])[:, 1])), trees


def cross_validate(
    x: np.ndarray,
    y: np.ndarray,
    params: list[dict[str, Any]],
    search: SearchSpec,
    seed: int,
    rounds: int | None,
    pool: ThreadPoolExecutor,
) -> list[list[tuple[float, int]]]:
    """(score, trees) on each of `search.folds` stratified folds of the training rows, for
    each parameter set in `params`; every fold of every set runs in `pool`."""
    scorer = SCORERS[search.metric]
    folds = folds_of(y, search, seed)
    jobs = [(p, f) for p in params for f in folds]
    done = list(pool.map(lambda j: _fold_score(x, y, j[1], j[0], rounds, scorer), jobs))
    k = len(folds)
    return [done[i * k : (i + 1) * k] for i in range(len(params))]


def _fit_params(base: dict[str, Any], workers: int | None) -> tuple[int, dict[str, Any]]:
    """(fits at once, the parameters of each): `workers` (default `base`'s n_jobs) fits, each
    on n_jobs // workers threads."""
    workers = max(1, int(workers or base.get("n_jobs") or 1))
    return workers, {**base, "n_jobs": max(1, int(base.get("n_jobs") or 1) // workers)}


def fold_boosters(
    x: np.ndarray,
    y: np.ndarray,
    params: dict[str, Any],
    search: SearchSpec,
    seed: int,
    rounds: int | None,
    workers: int | None = None,
) -> list[xgb.Booster]:
    """The search's fold models for `params` (`refit: bagFolds`): the same folds, fits and
    early stopping as the trial that scored them, so each has seen only its own fit rows of
    `x` and is cut at its best round on its held-out fold."""
    workers, fit_params = _fit_params({**params}, workers)
    folds = folds_of(y, search, seed)
    with ThreadPoolExecutor(workers) as pool:
        fitted = list(pool.map(lambda f: _fold_fit(x, y, f, fit_params, rounds), folds))
    return [model.get_booster()[:trees] for model, trees in fitted]


def top_params(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The searched parameters of the report's `top` trials, best first (`refit: bagTop`)."""
    return [report["history"][t - 1]["params"] for t in report["top"]]


def _trial(cand: dict[str, Any], folds: list[tuple[float, int]]) -> dict[str, Any]:
    scores = [s for s, _ in folds]
    return {
        "params": cand,
        "mean": float(np.mean(scores)),
        "std": float(np.std(scores)),
        "trees": round(float(np.mean([t for _, t in folds]))),
    }


def run_search(
    x: np.ndarray,
    y: np.ndarray,
    base: dict[str, Any],
    search: SearchSpec,
    seed: int,
    rounds: int | None,
    log: Callable[[str], None],
    workers: int | None = None,
) -> dict[str, Any]:
    """Scores every candidate by CV on the training rows (`x`, `y`); returns the report with
    the best candidate under `best` (ties go to the earlier trial, so to the spec's own
    hyperparameters first) and the TOP_MEMBERS best trials' numbers under `top`. `workers`
    fits run at once (default `base`'s n_jobs), each on n_jobs // workers threads."""
    t0, c0 = time.monotonic(), time.process_time()
    workers, fit_params = _fit_params(base, workers)
    limit = search.trials if search.trials is not None else 10_000
    cands = candidates(search, seed, limit, base)
    trials: list[dict[str, Any]] = []
    with ThreadPoolExecutor(workers) as pool:
        # `workers` trials at a time: every worker busy, the budget checked between batches
        for start in range(0, len(cands), workers):
            if search.budgetSeconds is not None and time.monotonic() - t0 >= search.budgetSeconds:
                break
            batch = cands[start : start + workers]
            params = [{**fit_params, **c} for c in batch]
            for i, (cand, folds) in enumerate(
                zip(batch, cross_validate(x, y, params, search, seed, rounds, pool), strict=True)
            ):
                trials.append(_trial(cand, folds))
                t = trials[-1]
                log(
                    f"search trial {start + i + 1}: {search.metric} {t['mean']:.4f} "
                    f"({t['trees']} trees) {'spec ' if start + i == 0 else ''}{cand}"
                )
    # best first; ties go to the earlier trial
    ranked = sorted(range(len(trials)), key=lambda i: (-trials[i]["mean"], i))
    best = ranked[0]
    r = lambda v: round(v, 6)  # noqa: E731
    return {
        "metric": search.metric,
        "folds": search.folds,
        "refit": search.refit,
        "trials": len(trials),
        "best": trials[best]["params"],
        "bestTrial": best + 1,
        "cvMean": r(trials[best]["mean"]),
        "cvStd": r(trials[best]["std"]),
        "defaultCvMean": r(trials[0]["mean"]),
        "top": [i + 1 for i in ranked[:TOP_MEMBERS]],  # trial numbers, best first
        "nJobs": base.get("n_jobs"),
        "workers": workers,
        "seconds": round(time.monotonic() - t0, 2),
        "cpuSeconds": round(time.process_time() - c0, 2),
        "history": [{**t, "mean": r(t["mean"]), "std": r(t["std"])} for t in trials],
    }
