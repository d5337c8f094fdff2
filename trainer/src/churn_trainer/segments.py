"""Test-set metrics per value of each declared segment column, and the segment F2 gate."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from .spec import SEGMENT_MIN_POSITIVES, SEGMENT_MIN_ROWS

MISSING = "(missing)"


def _label(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return MISSING
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _f2(y: np.ndarray, pred: np.ndarray) -> float:
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    d = 5 * tp + 4 * fn + fp
    return 5 * tp / d if d else 0.0


def _one_segment(column: str, value: str, y: np.ndarray, p: np.ndarray, t: float):
    pos = int(y.sum())
    both = 0 < pos < len(y)
    return {
        "name": f"{column}={value}",
        "column": column,
        "value": value,
        "rows": len(y),
        "positives": pos,
        "positiveRate": round(pos / len(y), 6),
        "rocAuc": round(float(roc_auc_score(y, p)), 6) if both else None,
        "f2": round(_f2(y, p >= t), 6),
        "small": len(y) < SEGMENT_MIN_ROWS or pos < SEGMENT_MIN_POSITIVES,
    }


def segment_metrics(
    features: pd.DataFrame, y: np.ndarray, p: np.ndarray, threshold: float, columns: list[str]
) -> list[dict[str, Any]]:
    """One entry per (column, value) present in `features` (the test rows): rows, positive
    rate, ROC-AUC (None with a single class), F2 at `threshold`, and whether it is too small
    to gate (fewer than SEGMENT_MIN_ROWS rows or SEGMENT_MIN_POSITIVES positives)."""
    y = np.asarray(y).astype(int)
    out = []
    for column in columns:
        labels = np.array([_label(v) for v in features[column].tolist()], dtype=object)
        for value in sorted(set(labels)):
            mask = labels == value
            out.append(_one_segment(column, value, y[mask], p[mask], threshold))
    return out


def worst_segment(segments: list[dict[str, Any]], overall_f2: float) -> dict[str, Any] | None:
    """The gated (not small) segment with the lowest F2, with its gap below `overall_f2`."""
    gated = [s for s in segments if not s["small"]]
    if not gated:
        return None
    w = min(gated, key=lambda s: (s["f2"], s["name"]))
    return {"name": w["name"], "f2": w["f2"], "gap": round(overall_f2 - w["f2"], 6)}


def segment_gate(limit: float, segments: list[dict[str, Any]], overall_f2: float):
    """The maxSegmentF2Gap gate entry, naming the worst segment. With every segment small
    there is nothing to gate: it passes and says so."""
    worst = worst_segment(segments, overall_f2)
    gap = 0.0 if worst is None else worst["gap"]
    return {
        "name": "maxSegmentF2Gap",
        "metric": "segmentF2Gap",
        "op": "<=",
        "threshold": limit,
        "observed": gap,
        "passed": bool(gap <= limit),
        "segment": None if worst is None else worst["name"],
    }
