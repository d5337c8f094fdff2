"""baseline.json: training-data feature distributions and test-set score distribution (drift)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .encode import Encoder

OTHER = "__other__"
SCORE_BINS = [round(i / 10, 1) for i in range(11)]


def _r(v: float) -> float:
    return float(round(float(v), 6))


def numeric_baseline(values: pd.Series) -> dict[str, Any]:
    """Decile-edge bins; bin i holds bins[i] <= v < bins[i+1] (null = -inf / +inf)."""
    v = values.to_numpy(dtype=float)
    present = v[~np.isnan(v)]
    missing = 1.0 - len(present) / max(len(v), 1)
    if len(present) == 0:
        return {"type": "numeric", "bins": [None, None], "fractions": [1.0], "missing": 1.0}
    edges = np.unique(np.round(np.quantile(present, np.linspace(0.1, 0.9, 9)), 6))
    idx = np.searchsorted(edges, present, side="right")
    counts = np.bincount(idx, minlength=len(edges) + 1)
    return {
        "type": "numeric",
        "bins": [None, *[float(e) for e in edges], None],
        "fractions": [_r(c / len(present)) for c in counts],
        "missing": _r(missing),
    }


def categorical_baseline(values: pd.Series, categories: list[str]) -> dict[str, Any]:
    """Fractions per known category plus __other__ (unseen); missing counted apart."""
    present = values.dropna().astype(str)
    missing = 1.0 - len(present) / max(len(values), 1)
    counts = present.value_counts()
    known = [int(counts.get(c, 0)) for c in categories]
    other = len(present) - sum(known)
    total = max(len(present), 1)
    return {
        "type": "categorical",
        "categories": [*categories, OTHER],
        "fractions": [_r(c / total) for c in [*known, other]],
        "missing": _r(missing),
    }


def baseline(train: pd.DataFrame, encoders: list[Encoder], scores: np.ndarray) -> dict[str, Any]:
    """The baseline.json document."""
    feats: dict[str, Any] = {}
    for e in encoders:
        col = train[e.feature.name]
        if e.feature.is_string:
            feats[e.feature.name] = categorical_baseline(col, list(e.categories or []))
        else:
            feats[e.feature.name] = numeric_baseline(col)
    counts = np.histogram(np.clip(scores, 0.0, 1.0), bins=SCORE_BINS)[0]
    return {
        "features": feats,
        "score": {
            "source": "test",
            "bins": SCORE_BINS,
            "fractions": [_r(c / max(len(scores), 1)) for c in counts],
        },
    }
