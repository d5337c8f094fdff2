"""One training run, start to artifact: fetch, parse, validate, split, encode, fit, export,
check parity, evaluate, gate, write. Each step is a function of the previous steps' outputs.
"""

from __future__ import annotations

import hashlib
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from . import __version__
from .artifact import dumps, write_artifact
from .baseline import baseline
from .data import RawDataset, Table, fetch, model_inputs, parse
from .encode import Encoder, encoded_names, encoded_to_raw, fit_encoders
from .errors import DataValidationError, GateFailed
from .evaluate import curves, gate_results, metrics, plot_curves
from .export import (
    IR_VERSION,
    ML_OPSET,
    ONNX_OPSET,
    booster_trees,
    check_covers,
    full_model,
    preprocessing_model,
    run_batched,
    session,
)
from .probes import probe_frame, reference
from .spec import Spec
from .train import SplitIndices, best_threshold, fit, resolve_hyperparameters, split_rows
from .validate import validate

FORMAT_VERSION = 1
PARITY_TOLERANCE = 1e-5
SCALAR_METRICS = (
    "rocAuc",
    "prAuc",
    "f1",
    "f2",
    "precision",
    "recall",
    "accuracy",
    "logLoss",
    "brier",
)


def _log(msg: str) -> None:
    print(f"[churn-trainer] {msg}", file=sys.stderr, flush=True)


def library_versions() -> dict[str, str]:
    """Versions recorded in the model card."""
    out = {"python": platform.python_version(), "churn-trainer": __version__}
    for dist in (
        "xgboost-cpu",
        "onnx",
        "onnxruntime",
        "scikit-learn",
        "pandas",
        "numpy",
        "pandera",
    ):
        try:
            out[dist.replace("-cpu", "")] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    out.setdefault("xgboost", xgb.__version__)
    return out


def schema_card(spec: Spec, encoders: list[Encoder]) -> dict[str, Any]:
    """The spec's schema, normalised: learned categories and imputation values filled in."""
    feats = []
    for e in encoders:
        f = e.feature
        d: dict[str, Any] = {"name": f.name, "type": f.type, "nullable": f.nullable}
        if f.min is not None:
            d["min"] = f.min
        if f.max is not None:
            d["max"] = f.max
        if f.type == "categorical":
            d["values"] = list(e.categories or [])
            d["valuesDeclared"] = f.values is not None
        if f.type == "ordinal":
            d["order"] = list(f.order or [])
        if f.is_string:
            d["unseen"] = f.unseen
        if f.impute.strategy != "none":
            d["impute"] = {"strategy": f.impute.strategy, "value": e.impute_value}
        feats.append(d)
    sc = spec.schema
    return {
        "idColumn": sc.idColumn,
        "target": {"column": sc.target.column, "positive": sc.target.positive},
        "features": feats,
        "drop": sc.drop,
    }


def _subset(feeds: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[rows] for k, v in feeds.items()}


@dataclass
class ValidatedData:
    """A data set that passed every data check, with the split `train` will use."""

    raw: RawDataset
    table: Table
    y: np.ndarray  # int8 0/1
    parts: SplitIndices
    checks: list[dict[str, Any]]


def validate_data(spec: Spec, log: Callable[[str], None] = _log) -> ValidatedData:
    """Fetches, parses and checks the data set, every row, and that it splits: all the data
    checks of a training run (`train` and `validate` both call this). Raises
    DataValidationError, carrying the checks and what is known of the data, on failure."""
    checks: list[dict[str, Any]] = []
    log(f"reading {spec.dataset.location}")
    raw = fetch(spec.dataset.location)
    table: Table | None = None
    try:
        table = parse(raw, spec, checks)
        log(f"validating {table.rows} rows x {len(spec.schema.features)} features")
        validate(table, spec, checks)
        y = table.y.astype(np.int8)
        parts = split_rows(y, spec, checks)
    except DataValidationError as e:
        e.dataset = {"sha256": raw.sha256, "bytes": len(raw.content)}
        if table is not None:
            e.dataset["rows"] = table.rows
        raise
    return ValidatedData(raw, table, y, parts, checks)


def validation_summary(data: ValidatedData, seconds: float) -> dict[str, Any]:
    """The `validate` command's success summary."""
    return {
        "status": "validated",
        "exitCode": 0,
        "rows": data.table.rows,
        "dataSha256": data.raw.sha256,
        "bytes": len(data.raw.content),
        "positiveRate": round(float(data.y.mean()), 6),
        "checks": {"passed": sum(1 for c in data.checks if c["passed"]), "failed": 0},
        "split": {
            "trainRows": len(data.parts.train),
            "validationRows": len(data.parts.validation),
            "testRows": len(data.parts.test),
        },
        "seconds": round(seconds, 2),
    }


def train_run(spec: Spec, store: Path, log: Callable[[str], None] = _log) -> dict[str, Any]:
    """Runs the whole pipeline; returns the success summary or raises a TrainerError."""
    t0 = time.monotonic()
    data = validate_data(spec, log)
    raw, table, y, parts, checks = data.raw, data.table, data.y, data.parts, data.checks

    encoders = fit_encoders(table.features.iloc[parts.train], spec)
    names = encoded_names(encoders)
    feeds = model_inputs(table.features, spec)
    log(f"encoding through the ONNX preprocessing graph -> {len(names)} features")
    (x,) = run_batched(session(preprocessing_model(encoders)), feeds, ["features"])

    params = resolve_hyperparameters(spec, y[parts.train])
    log(f"training xgboost on {len(parts.train)} rows")
    booster = fit(x[parts.train], y[parts.train], params).get_booster()

    trees = booster_trees(booster)
    check_covers(booster, trees)
    model = full_model(encoders, trees, spec.name)
    model_bytes = model.SerializeToString()
    served = session(model)

    def onnx_prob(rows: np.ndarray) -> np.ndarray:
        return run_batched(served, _subset(feeds, rows), ["probability"])[0][:, 0]

    p_test = onnx_prob(parts.test)
    p_test_xgb = booster.predict(xgb.DMatrix(x[parts.test], missing=np.nan))
    parity_diff = float(np.max(np.abs(p_test.astype(np.float64) - p_test_xgb)))

    p_val = onnx_prob(parts.validation)
    if spec.threshold.policy == "fixed":
        threshold, val_score = float(spec.threshold.value), None
    else:
        beta = 1.0 if spec.threshold.policy == "maxF1" else 2.0
        threshold, val_score = best_threshold(y[parts.validation], p_val, beta)
    m = metrics(y[parts.test], p_test, threshold)
    log(
        f"test: ROC-AUC {m['rocAuc']:.4f} PR-AUC {m['prAuc']:.4f} F1 {m['f1']:.4f} "
        f"F2 {m['f2']:.4f} at threshold {threshold:.4f} ({spec.threshold.policy})"
    )

    # probes: test rows first, then the rest, plus missing/unseen edge cases
    order = np.r_[parts.test, parts.validation, parts.train]
    probes = probe_frame(table.features, order, spec, encoders)
    probe_feeds = model_inputs(probes, spec)
    p_probe_onnx, x_probe = served.run(["probability", "features"], probe_feeds)
    ref = reference(probes, x_probe, booster, spec)
    probe_diff = float(np.max(np.abs(p_probe_onnx[:, 0] - np.array(ref["probabilities"]))))
    parity = {
        "maxAbsDiff": parity_diff,
        "rows": len(parts.test),
        "probeMaxAbsDiff": probe_diff,
        "probeRows": len(probes),
        "tolerance": PARITY_TOLERANCE,
        "passed": max(parity_diff, probe_diff) <= PARITY_TOLERANCE,
    }
    gates = gate_results(spec.gates, m)
    gates.append(
        {
            "name": "parity",
            "metric": "parity.maxAbsDiff",
            "op": "<=",
            "threshold": PARITY_TOLERANCE,
            "observed": max(parity_diff, probe_diff),
            "passed": parity["passed"],
        }
    )
    failed = [g for g in gates if not g["passed"]]
    if failed:
        msg = "; ".join(
            f"{g['name']}: {g['observed']} {g['op']} {g['threshold']} failed" for g in failed
        )
        raise GateFailed(f"gate(s) failed: {msg}", gates, m)

    digest = hashlib.sha256(model_bytes).hexdigest()
    pos_rate = float(y.mean())
    card = {
        "formatVersion": FORMAT_VERSION,
        "digest": digest,
        "createdAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "name": spec.name,
        "schema": schema_card(spec, encoders),
        "features": {
            "raw": spec.feature_names,
            "encoded": names,
            "encodedToRaw": encoded_to_raw(encoders),
            "encoders": [e.card() for e in encoders],
        },
        "threshold": {
            "value": round(threshold, 6),
            "policy": spec.threshold.policy,
            "chosenOn": "spec" if spec.threshold.policy == "fixed" else "validation",
            "validationScore": None if val_score is None else round(val_score, 6),
        },
        "metrics": {k: m[k] for k in SCALAR_METRICS},
        "gates": gates,
        "parity": parity,
        "data": {
            "sha256": raw.sha256,
            "bytes": len(raw.content),
            "rows": table.rows,
            "positiveRate": round(pos_rate, 6),
            "location": spec.dataset.location,
        },
        "split": {
            **asdict(spec.split),
            "trainRows": len(parts.train),
            "validationRows": len(parts.validation),
            "testRows": len(parts.test),
        },
        "hyperparameters": params,
        "onnx": {
            "opset": ONNX_OPSET,
            "mlOpset": ML_OPSET,
            "irVersion": IR_VERSION,
            "outputs": ["probability", "features", "label", "probabilities"],
            "trees": trees.n_trees,
            "nodes": trees.n_nodes,
            "baseMargin": trees.base_margin,
        },
        "libraries": library_versions(),
    }
    metrics_doc = {**m, "curves": curves(y[parts.test], p_test)}
    files = {
        "model.onnx": model_bytes,
        "model.json": dumps(card),
        "validation.json": dumps({"rows": table.rows, "passed": True, "checks": checks}),
        "metrics.json": dumps(metrics_doc),
        "baseline.json": dumps(baseline(table.features.iloc[parts.train], encoders, p_test)),
        "reference.json": dumps(ref),
        **plot_curves(metrics_doc["curves"], m, spec.name),
    }
    path, created = write_artifact(store, files)
    log(f"artifact {'written' if created else 'already present'}: {path}")
    return {
        "status": "succeeded",
        "exitCode": 0,
        "digest": digest,
        "artifact": str(path),
        "created": created,
        "rows": table.rows,
        "dataSha256": raw.sha256,
        "metrics": {k: m[k] for k in ("rocAuc", "prAuc", "f1", "f2", "precision", "recall")}
        | {"threshold": round(threshold, 6)},
        "parityMaxAbsDiff": max(parity_diff, probe_diff),
        "gates": {g["name"]: g["passed"] for g in gates},
        "seconds": round(time.monotonic() - t0, 2),
    }
