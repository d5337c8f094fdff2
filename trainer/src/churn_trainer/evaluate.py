"""Test-set metrics at the chosen threshold, curve points, plots and gate decisions."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from .spec import GATES

MAX_CURVE_POINTS = 400


def _thin(*arrays: np.ndarray) -> list[np.ndarray]:
    """Keeps at most MAX_CURVE_POINTS evenly spaced points, always both ends."""
    n = len(arrays[0])
    if n <= MAX_CURVE_POINTS:
        return list(arrays)
    keep = np.unique(np.linspace(0, n - 1, MAX_CURVE_POINTS).round().astype(int))
    return [a[keep] for a in arrays]


def _r(v: float) -> float:
    return float(round(float(v), 6))


def metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, Any]:
    """Every metric of metrics.json for labels `y` and probabilities `p`."""
    y = y.astype(int)
    pred = p >= threshold
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    tn = int(np.sum(~pred & (y == 0)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0

    def fbeta(b: float) -> float:
        d = b * b * precision + recall
        return (1 + b * b) * precision * recall / d if d else 0.0

    return {
        "rocAuc": _r(roc_auc_score(y, p)),
        "prAuc": _r(average_precision_score(y, p)),
        "f1": _r(fbeta(1.0)),
        "f2": _r(fbeta(2.0)),
        "precision": _r(precision),
        "recall": _r(recall),
        "accuracy": _r((tp + tn) / len(y)),
        "logLoss": _r(log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1])),
        "brier": _r(brier_score_loss(y, p)),
        "threshold": _r(threshold),
        "confusionMatrix": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        "rows": len(y),
        "positives": int(y.sum()),
    }


def curves(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """ROC and PR curve points (thinned), thresholds included."""
    fpr, tpr, roc_t = roc_curve(y, p)
    roc_t = np.where(np.isfinite(roc_t), roc_t, 1.0)
    fpr, tpr, roc_t = _thin(fpr, tpr, roc_t)
    prec, rec, pr_t = precision_recall_curve(y, p)
    pr_t = np.r_[pr_t, 1.0]
    prec, rec, pr_t = _thin(prec, rec, pr_t)
    r = np.vectorize(_r, otypes=[float])
    return {
        "roc": {"fpr": r(fpr).tolist(), "tpr": r(tpr).tolist(), "thresholds": r(roc_t).tolist()},
        "pr": {
            "precision": r(prec).tolist(),
            "recall": r(rec).tolist(),
            "thresholds": r(pr_t).tolist(),
        },
    }


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def plot_curves(curve: dict[str, Any], m: dict[str, Any], title: str) -> dict[str, bytes]:
    """The PNG plots {"roc.png": ..., "pr.png": ...}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.plot(curve["roc"]["fpr"], curve["roc"]["tpr"], label=f"ROC-AUC {m['rocAuc']:.3f}")
    ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=0.8)
    ax.set(xlabel="False positive rate", ylabel="True positive rate", title=f"{title}: ROC")
    ax.legend(loc="lower right")
    fig.tight_layout()
    roc = _png(fig)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.plot(curve["pr"]["recall"], curve["pr"]["precision"], label=f"PR-AUC {m['prAuc']:.3f}")
    base = m["positives"] / m["rows"]
    ax.axhline(base, linestyle="--", color="grey", linewidth=0.8)
    ax.scatter(
        [m["recall"]],
        [m["precision"]],
        color="red",
        zorder=3,
        label=f"threshold {m['threshold']:.3f}",
    )
    ax.set(
        xlabel="Recall",
        ylabel="Precision",
        title=f"{title}: precision-recall",
        xlim=(0, 1),
        ylim=(0, 1.02),
    )
    ax.legend(loc="lower left")
    fig.tight_layout()
    pr = _png(fig)
    plt.close(fig)
    return {"roc.png": roc, "pr.png": pr}


RELIABILITY_BINS = 10


def reliability(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """Calibration summary of probabilities `p`: Brier score, log-loss and a reliability curve
    (RELIABILITY_BINS equal-width bins; empty bins left out)."""
    y = y.astype(int)
    bins = np.minimum((p * RELIABILITY_BINS).astype(int), RELIABILITY_BINS - 1)
    curve: dict[str, list] = {"binLower": [], "meanPredicted": [], "observedRate": [], "rows": []}
    for b in range(RELIABILITY_BINS):
        mask = bins == b
        if mask.any():
            curve["binLower"].append(_r(b / RELIABILITY_BINS))
            curve["meanPredicted"].append(_r(p[mask].mean()))
            curve["observedRate"].append(_r(y[mask].mean()))
            curve["rows"].append(int(mask.sum()))
    return {
        "brier": _r(brier_score_loss(y, p)),
        "logLoss": _r(log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1])),
        "rocAuc": _r(roc_auc_score(y, p)),
        "reliability": curve,
    }


def plot_reliability(calibration: dict[str, Any], title: str) -> dict[str, bytes]:
    """reliability.png: observed churn rate against mean predicted probability per bin, before
    and (when calibrated) after calibration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=0.8, label="perfectly calibrated")
    for key, label in (("uncalibrated", "uncalibrated"), ("calibrated", calibration["method"])):
        doc = calibration.get(key)
        if doc is None:
            continue
        c = doc["reliability"]
        ax.plot(
            c["meanPredicted"],
            c["observedRate"],
            "o-",
            label=f"{label} (Brier {doc['brier']:.4f})",
        )
    ax.set(
        xlabel="Mean predicted probability",
        ylabel="Observed churn rate",
        title=f"{title}: reliability (test set)",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    ax.legend(loc="upper left")
    fig.tight_layout()
    png = _png(fig)
    plt.close(fig)
    return {"reliability.png": png}


def gate_results(gates: dict[str, float], m: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per configured metric gate (segment gates are segments.segment_gate's)."""
    out = []
    for name, threshold in gates.items():
        if name not in GATES:
            continue
        metric, op = GATES[name]
        observed = m[metric]
        passed = observed >= threshold if op == ">=" else observed <= threshold
        out.append(
            {
                "name": name,
                "metric": metric,
                "op": op,
                "threshold": threshold,
                "observed": observed,
                "passed": bool(passed),
            }
        )
    return out
