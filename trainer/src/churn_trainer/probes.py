"""reference.json: probe rows with xgboost's probabilities, SHAP contributions and margins.

The runtime scores these rows at load time and must reproduce the recorded values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from .calibrate import Calibration
from .encode import Encoder
from .spec import Spec

MIN_PROBES = 100
UNSEEN_PROBE = "__never_seen_in_training__"


def _json_value(v: Any, ftype: str) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if ftype in ("categorical", "ordinal"):
        return str(v)
    if ftype in ("integer", "boolean") and float(v).is_integer():
        return int(v)
    return float(v)


def probe_frame(features: pd.DataFrame, order: np.ndarray, spec: Spec, encoders: list[Encoder]):
    """Probe rows as a typed frame: >= MIN_PROBES real rows (test rows first) plus edge cases.

    Edge cases, where the schema allows them: each nullable feature missing on its own, all of
    them missing together, and an unseen value for each string feature with unseen=ignore.
    """
    base = features.iloc[order[:MIN_PROBES]].reset_index(drop=True)
    edges: list[dict[str, Any]] = []
    first = base.iloc[0].to_dict()
    nullable = [e.feature for e in encoders if e.feature.nullable]
    for f in nullable:
        edges.append({**first, f.name: None if f.is_string else np.nan})
    if len(nullable) > 1:
        edges.append({**first, **{f.name: None if f.is_string else np.nan for f in nullable}})
    for e in encoders:
        f = e.feature
        if f.is_string and f.unseen == "ignore":
            edges.append({**first, f.name: UNSEEN_PROBE})
    frame = pd.concat([base, pd.DataFrame(edges, columns=base.columns)], ignore_index=True)
    for f in spec.schema.features:
        if not f.is_string:
            frame[f.name] = frame[f.name].astype("float64")
        else:
            col = frame[f.name].astype("object")
            frame[f.name] = col.where(col.notna(), None)
    return frame


def reference(
    frame: pd.DataFrame, x: np.ndarray, booster: xgb.Booster, spec: Spec, cal: Calibration
):
    """The reference.json document for probe rows `frame` whose encoded matrix is `x`.

    Contributions and margins are those of the graph's trees (calibrated for sigmoid, the
    uncalibrated margin for isotonic); probabilities are what the graph serves."""
    dm = xgb.DMatrix(x, missing=np.nan)
    raw_margins = booster.predict(dm, output_margin=True)
    contribs = booster.predict(dm, pred_contribs=True)
    gap = float(np.max(np.abs(contribs.sum(axis=1) - raw_margins)))
    if gap > 1e-4:
        raise ValueError(f"pred_contribs do not sum to the margin (max gap {gap})")
    # uncalibrated: xgboost's own probabilities, exactly as before calibration existed
    prob = booster.predict(dm) if cal.method == "none" else cal.probability(raw_margins)
    contribs, margins = cal.contributions(contribs), cal.margin(raw_margins)
    types = {f.name: f.type for f in spec.schema.features}
    rows = [
        {name: _json_value(v, types[name]) for name, v in rec.items()}
        for rec in frame.to_dict(orient="records")
    ]
    return {
        "rows": rows,
        "probabilities": [float(v) for v in prob],
        "contributions": [[float(v) for v in r] for r in contribs],
        "margins": [float(v) for v in margins],
    }
