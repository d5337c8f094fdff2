"""Probability calibration fitted on the validation fold, in a form the ONNX graph can carry.

- `sigmoid` (Platt scaling) is `p = sigmoid(a * margin + b)`: linear in the trees' margin, so
  the export folds it into the ensemble (every leaf weight times `a`, base margin `a*m + b`).
  The graph stays one tree sum followed by the logistic, and TreeSHAP over the graph's own
  attributes gives contributions that sum to the calibrated log-odds, exactly.
- `isotonic` is a monotone map of the uncalibrated probability, written as a piecewise-linear
  function after the trees. We use centred isotonic regression: the pool-adjacent-violators
  blocks of sklearn's IsotonicRegression, each at its mean uncalibrated probability, joined by
  straight lines (flat outside the first and last). Joining block centres instead of block
  edges keeps every slope moderate, so float32 differences between onnxruntime and xgboost
  (~1e-7) stay well inside the parity tolerance, and it ranks rows inside a block instead of
  tying them. The trees still sum to the uncalibrated margin: explanations are of that margin
  (which orders customers exactly as the calibrated probability does), not of logit(p).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

# Isotonic block centres closer than this (in probability) are merged, bounding the slopes.
ISOTONIC_MIN_GAP = 1e-3


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


@dataclass
class Calibration:
    """A fitted calibration map from the trees' margin to the served probability."""

    method: str = "none"
    a: float = 1.0  # sigmoid: slope on the margin
    b: float = 0.0  # sigmoid: intercept
    xs: list[float] = field(default_factory=list)  # isotonic: knots (uncalibrated probability)
    ys: list[float] = field(default_factory=list)  # isotonic: calibrated probability at knots

    def margin(self, margin: np.ndarray) -> np.ndarray:
        """The log-odds the graph's tree sum produces (calibrated for sigmoid)."""
        m = np.asarray(margin, dtype=np.float64)
        return self.a * m + self.b if self.method == "sigmoid" else m

    def probability(self, margin: np.ndarray) -> np.ndarray:
        """The served probability for the trees' uncalibrated margin."""
        p = _sigmoid(self.margin(margin))
        if self.method == "isotonic":
            return np.interp(p, self.xs, self.ys)
        return p

    def contributions(self, contribs: np.ndarray) -> np.ndarray:
        """xgboost's pred_contribs of the uncalibrated margin as the graph's trees explain them:
        scaled by `a`, `b` added to the bias, for sigmoid; unchanged otherwise."""
        c = np.asarray(contribs, dtype=np.float64)
        if self.method != "sigmoid":
            return c
        c = c * self.a
        c[:, -1] += self.b
        return c

    def card(self) -> dict[str, Any]:
        """model.json's `calibration`: the map and what explanations sum to."""
        out: dict[str, Any] = {"method": self.method, "fittedOn": "validation"}
        if self.method == "sigmoid":
            out |= {"a": self.a, "b": self.b, "explanations": "calibratedLogOdds"}
        elif self.method == "isotonic":
            out |= {"knots": self.xs, "values": self.ys, "explanations": "uncalibratedMargin"}
        else:
            out |= {"explanations": "logOdds"}
        return out


def _fit_sigmoid(margin: np.ndarray, y: np.ndarray) -> Calibration:
    """Platt scaling: an unpenalised logistic regression of the label on the margin."""
    lr = LogisticRegression(C=np.inf, solver="lbfgs", max_iter=1000)
    lr.fit(margin.reshape(-1, 1), y)
    a, b = float(lr.coef_[0, 0]), float(lr.intercept_[0])
    return Calibration("sigmoid", a=round(a, 9), b=round(b, 9))


def _merge_close(xs: list[float], ys: list[float], ws: list[float]) -> tuple[list, list]:
    """Merges neighbouring centres closer than ISOTONIC_MIN_GAP (weighted means, still
    non-decreasing, since merging neighbours of a monotone sequence keeps it monotone)."""
    ox, oy, ow = [xs[0]], [ys[0]], [ws[0]]
    for x, y, w in zip(xs[1:], ys[1:], ws[1:], strict=True):
        if x - ox[-1] < ISOTONIC_MIN_GAP:
            tw = ow[-1] + w
            ox[-1] = (ox[-1] * ow[-1] + x * w) / tw
            oy[-1] = (oy[-1] * ow[-1] + y * w) / tw
            ow[-1] = tw
        else:
            ox.append(x), oy.append(y), ow.append(w)
    return ox, oy


def _fit_isotonic(margin: np.ndarray, y: np.ndarray) -> Calibration:
    """Centred isotonic regression of the label on the uncalibrated probability."""
    p = _sigmoid(margin)
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, y)
    fitted = iso.predict(p)
    order = np.argsort(p, kind="mergesort")
    p, fitted = p[order], fitted[order]
    # a block is a run of equal fitted values
    starts = np.r_[0, np.flatnonzero(np.diff(fitted)) + 1]
    ends = np.r_[starts[1:], len(p)]
    xs = [float(p[s:e].mean()) for s, e in zip(starts, ends, strict=True)]
    ys = [float(fitted[s]) for s in starts]
    ws = [float(e - s) for s, e in zip(starts, ends, strict=True)]
    xs, ys = _merge_close(xs, ys, ws)
    if len(xs) == 1:  # one block: a constant map, still two knots for the graph
        xs, ys = [0.0, 1.0], [ys[0], ys[0]]
    return Calibration("isotonic", xs=[round(v, 9) for v in xs], ys=[round(v, 9) for v in ys])


def fit_calibration(method: str, margin: np.ndarray, y: np.ndarray) -> Calibration:
    """Fits `method` on the validation fold's uncalibrated margins and labels."""
    margin = np.asarray(margin, dtype=np.float64)
    y = np.asarray(y).astype(int)
    if method == "sigmoid":
        return _fit_sigmoid(margin, y)
    if method == "isotonic":
        return _fit_isotonic(margin, y)
    return Calibration()
