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
import onnxruntime as ort
import xgboost as xgb

from . import __version__
from .artifact import dumps, write_artifact
from .bag import Bag
from .baseline import baseline
from .calibrate import Calibration, fit_calibration
from .data import RawDataset, Table, fetch, model_inputs, parse
from .encode import Encoder, encoded_names, encoded_to_raw, fit_encoders
from .errors import DataValidationError, GateFailed
from .evaluate import curves, gate_results, metrics, plot_curves, plot_reliability, reliability
from .export import (
    IR_VERSION,
    ML_OPSET,
    ONNX_OPSET,
    Trees,
    bagged_trees,
    booster_trees,
    calibrated_trees,
    check_covers,
    full_model,
    preprocessing_model,
    run_batched,
    session,
)
from .probes import probe_frame, reference
from .search import fold_boosters, run_search, top_params
from .segments import segment_gate, segment_metrics, worst_segment
from .spec import SEGMENT_GATES, Spec, Threshold
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
    raw = fetch(spec.dataset.location, spec.dataset)
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


@dataclass
class TrainedModel:
    """The encoders and booster fitted on the training rows, and the ONNX graph serving both."""

    encoders: list[Encoder]
    feeds: dict[str, np.ndarray]  # every row of the table as ONNX inputs
    x: np.ndarray  # every row encoded by the preprocessing graph
    params: dict[str, Any]
    booster: xgb.Booster | Bag  # Bag: the search's fold models averaged (refit: bagFolds)
    trees: Trees
    onnx_bytes: bytes
    digest: str
    served: ort.InferenceSession
    calibration: Calibration
    search: dict[str, Any] | None  # the search's report, or None without a search

    def margin(self, rows: np.ndarray) -> np.ndarray:
        """xgboost's uncalibrated margin for the table's `rows`."""
        dm = xgb.DMatrix(self.x[rows], missing=np.nan)
        return self.booster.predict(dm, output_margin=True)

    def probability(self, rows: np.ndarray) -> np.ndarray:
        """The served graph's churn probability for the table's `rows`."""
        return run_batched(self.served, _subset(self.feeds, rows), ["probability"])[0][:, 0]


@dataclass
class Evaluation:
    """What the held-out rows and the probe rows say of a trained model."""

    threshold: float
    validation_score: float | None
    metrics: dict[str, Any]
    p_test: np.ndarray
    reference: dict[str, Any]
    parity: dict[str, Any]
    gates: list[dict[str, Any]]
    calibration: dict[str, Any]  # metrics.json's: test-set Brier, log-loss, reliability
    segments: list[dict[str, Any]]


def _bagged(
    boosters: list[xgb.Booster], search: dict[str, Any], log: Callable[[str], None]
) -> tuple[Bag, Trees]:
    """`boosters` averaged in the margin, recorded under the search report's `bag`."""
    for b in boosters:
        check_covers(b, booster_trees(b))
    search["bag"] = {"members": len(boosters), "trees": [b.num_boosted_rounds() for b in boosters]}
    log(f"bagged {len(boosters)} {search['refit']} models ({search['bag']['trees']} trees)")
    return Bag(boosters), bagged_trees(boosters)


def _fit_final(
    x: np.ndarray,
    data: ValidatedData,
    base: dict[str, Any],
    search: dict[str, Any] | None,
    spec: Spec,
    log: Callable[[str], None],
) -> tuple[xgb.Booster | Bag, Trees]:
    """The served model and its trees, from the resolved hyperparameters `base` and the search.
    single: one booster with the best candidate on the training rows (early-stopped on the
    validation fold). bagFolds: the search's fold models for the best candidate averaged (each
    early-stopped on its own held-out fold of the training rows, so the validation fold stays
    unseen by every one of them, for calibration and the threshold). bagTop: the `top` best
    candidates each fitted as single is, averaged."""
    train, val = data.parts.train, data.parts.validation
    rounds = spec.model.earlyStoppingRounds
    sr = spec.model.search
    refit = "single" if search is None or sr is None else sr.refit
    params = base if search is None else {**base, **search["best"]}
    if refit == "bagFolds":
        boosters = fold_boosters(x[train], data.y[train], params, sr, spec.split.seed, rounds)
        return _bagged(boosters, search, log)
    stop = None if rounds is None else (rounds, x[val], data.y[val])
    if refit == "bagTop":
        log(f"training xgboost on {len(train)} rows, the {len(search['top'])} best candidates")
        members = [fit(x[train], data.y[train], {**base, **p}, stop) for p in top_params(search)]
        return _bagged(members, search, log)
    log(f"training xgboost on {len(train)} rows")
    booster = fit(x[train], data.y[train], params, stop)
    trees = booster_trees(booster)
    check_covers(booster, trees)
    return booster, trees


def train_model(data: ValidatedData, spec: Spec, log: Callable[[str], None]) -> TrainedModel:
    """Fits the encoders and the booster on the training rows and exports both as one graph."""
    train = data.parts.train
    encoders = fit_encoders(data.table.features.iloc[train], spec)
    feeds = model_inputs(data.table.features, spec)
    n_encoded = len(encoded_names(encoders))
    log(f"encoding through the ONNX preprocessing graph -> {n_encoded} features")
    (x,) = run_batched(session(preprocessing_model(encoders)), feeds, ["features"])

    params = resolve_hyperparameters(spec, data.y[train])
    val = data.parts.validation
    rounds = spec.model.earlyStoppingRounds
    search = None
    if spec.model.search is not None:
        search = run_search(
            x[train], data.y[train], params, spec.model.search, spec.split.seed, rounds, log
        )
        log(f"search: best {search['metric']} {search['cvMean']:.4f} with {search['best']}")
    booster, trees = _fit_final(x, data, params, search, spec, log)
    if search is not None:
        params = {**params, **search["best"]}

    val_margin = booster.predict(xgb.DMatrix(x[val], missing=np.nan), output_margin=True)
    cal = fit_calibration(spec.calibration.method, val_margin, data.y[val])
    if cal.method != "none":
        log(f"calibration {cal.method} fitted on {len(val)} validation rows")
    trees = calibrated_trees(trees, cal)
    model = full_model(encoders, trees, spec.name, cal)
    onnx_bytes = model.SerializeToString()
    digest = hashlib.sha256(onnx_bytes).hexdigest()
    return TrainedModel(
        encoders, feeds, x, params, booster, trees, onnx_bytes, digest, session(model), cal, search
    )


def _choose_threshold(
    th: Threshold, y_val: np.ndarray, p_val: np.ndarray
) -> tuple[float, float | None]:
    """The decision threshold and, unless the spec fixed it, its F-beta on the validation rows."""
    if th.policy == "fixed":
        return float(th.value), None
    beta = 1.0 if th.policy == "maxF1" else 2.0
    return best_threshold(y_val, p_val, beta)


def _probe_reference(
    data: ValidatedData, model: TrainedModel, spec: Spec
) -> tuple[dict[str, Any], float, int]:
    """reference.json, the served graph's largest gap from it, and the number of probe rows."""
    # probes: test rows first, then the rest, plus missing/unseen edge cases
    parts = data.parts
    order = np.r_[parts.test, parts.validation, parts.train]
    probes = probe_frame(data.table.features, order, spec, model.encoders)
    p_probe_onnx, x_probe = model.served.run(
        ["probability", "features"], model_inputs(probes, spec)
    )
    ref = reference(probes, x_probe, model.booster, spec, model.calibration)
    probe_diff = float(np.max(np.abs(p_probe_onnx[:, 0] - np.array(ref["probabilities"]))))
    return ref, probe_diff, len(probes)


def _parity(test_diff: float, test_rows: int, probe_diff: float, probes: int) -> dict[str, Any]:
    """model.json's `parity`: the served graph against xgboost on test and probe rows."""
    return {
        "maxAbsDiff": test_diff,
        "rows": test_rows,
        "probeMaxAbsDiff": probe_diff,
        "probeRows": probes,
        "tolerance": PARITY_TOLERANCE,
        "passed": max(test_diff, probe_diff) <= PARITY_TOLERANCE,
    }


def _gates(
    gates: dict[str, float],
    m: dict[str, Any],
    parity: dict[str, Any],
    segments: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The spec's metric gates, the segment gate, then the parity gate."""
    seg = [segment_gate(gates[k], segments, m["f2"]) for k in SEGMENT_GATES if k in gates]
    return [
        *gate_results(gates, m),
        *seg,
        {
            "name": "parity",
            "metric": "parity.maxAbsDiff",
            "op": "<=",
            "threshold": PARITY_TOLERANCE,
            "observed": max(parity["maxAbsDiff"], parity["probeMaxAbsDiff"]),
            "passed": parity["passed"],
        },
    ]


def evaluate_model(
    data: ValidatedData, model: TrainedModel, spec: Spec, log: Callable[[str], None]
) -> Evaluation:
    """Scores the test rows, chooses the threshold on the validation rows, checks parity on
    test and probe rows, and applies the gates (not yet raising)."""
    parts, y = data.parts, data.y
    p_test = model.probability(parts.test)
    margin_test = model.margin(parts.test)
    p_test_xgb = model.calibration.probability(margin_test)
    parity_diff = float(np.max(np.abs(p_test.astype(np.float64) - p_test_xgb)))

    # calibrated probabilities (the served graph's) choose the threshold
    p_val = model.probability(parts.validation)
    threshold, val_score = _choose_threshold(spec.threshold, y[parts.validation], p_val)
    m = metrics(y[parts.test], p_test, threshold)
    log(
        f"test: ROC-AUC {m['rocAuc']:.4f} PR-AUC {m['prAuc']:.4f} F1 {m['f1']:.4f} "
        f"F2 {m['f2']:.4f} Brier {m['brier']:.4f} at threshold {threshold:.4f} "
        f"({spec.threshold.policy})"
    )
    cal = _calibration_report(model.calibration, y[parts.test], margin_test, p_test)
    test_features = data.table.features.iloc[parts.test]
    segs = segment_metrics(test_features, y[parts.test], p_test, threshold, spec.segments)

    ref, probe_diff, probes = _probe_reference(data, model, spec)
    parity = _parity(parity_diff, len(parts.test), probe_diff, probes)
    gates = _gates(spec.gates, m, parity, segs)
    return Evaluation(threshold, val_score, m, p_test, ref, parity, gates, cal, segs)


def _calibration_report(
    cal: Calibration, y: np.ndarray, margin: np.ndarray, p_served: np.ndarray
) -> dict[str, Any]:
    """metrics.json's `calibration`: the test set's Brier, log-loss, ROC-AUC and reliability
    curve of the uncalibrated probabilities and, when calibrated, of the served ones."""
    raw = 1.0 / (1.0 + np.exp(-margin.astype(np.float64)))
    out: dict[str, Any] = {"method": cal.method, "uncalibrated": reliability(y, raw)}
    if cal.method != "none":
        out["calibrated"] = reliability(y, p_served.astype(np.float64))
    return out


def _raise_failed_gates(ev: Evaluation) -> None:
    """Raises GateFailed naming every failed gate; nothing is written then."""
    failed = [g for g in ev.gates if not g["passed"]]
    if failed:
        msg = "; ".join(
            f"{g['name']}: {g['observed']} {g['op']} {g['threshold']} failed"
            + (f" (segment {g['segment']})" if g.get("segment") else "")
            for g in failed
        )
        raise GateFailed(f"gate(s) failed: {msg}", ev.gates, ev.metrics)


def _search_card(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """The search's report without its per-trial history (that is in metrics.json)."""
    return None if report is None else {k: v for k, v in report.items() if k != "history"}


def _brier_pair(report: dict[str, Any]) -> dict[str, float]:
    """The test set's Brier score before and (when calibrated) after calibration."""
    out = {"brierUncalibrated": report["uncalibrated"]["brier"]}
    if "calibrated" in report:
        out["brierCalibrated"] = report["calibrated"]["brier"]
    return out


def _model_card(
    spec: Spec, data: ValidatedData, model: TrainedModel, ev: Evaluation
) -> dict[str, Any]:
    """model.json: what was trained, on what, how it scored, and the graph's shape."""
    encoders, trees, parts = model.encoders, model.trees, data.parts
    return {
        "formatVersion": FORMAT_VERSION,
        "digest": model.digest,
        "createdAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "name": spec.name,
        "schema": schema_card(spec, encoders),
        "features": {
            "raw": spec.feature_names,
            "encoded": encoded_names(encoders),
            "encodedToRaw": encoded_to_raw(encoders),
            "encoders": [e.card() for e in encoders],
        },
        "threshold": {
            "value": round(ev.threshold, 6),
            "policy": spec.threshold.policy,
            "chosenOn": "spec" if spec.threshold.policy == "fixed" else "validation",
            "validationScore": None
            if ev.validation_score is None
            else round(ev.validation_score, 6),
        },
        "metrics": {k: ev.metrics[k] for k in SCALAR_METRICS},
        "calibration": model.calibration.card() | _brier_pair(ev.calibration),
        "segments": ev.segments,
        "worstSegment": worst_segment(ev.segments, ev.metrics["f2"]),
        "gates": ev.gates,
        "parity": ev.parity,
        "data": {
            "sha256": data.raw.sha256,
            "bytes": len(data.raw.content),
            "rows": data.table.rows,
            "positiveRate": round(float(data.y.mean()), 6),
            "location": spec.dataset.location,
        },
        "split": {
            **asdict(spec.split),
            "trainRows": len(parts.train),
            "validationRows": len(parts.validation),
            "testRows": len(parts.test),
        },
        "hyperparameters": model.params,
        "search": _search_card(model.search),
        "earlyStopping": None
        if spec.model.earlyStoppingRounds is None
        else {"rounds": spec.model.earlyStoppingRounds, "trees": trees.n_trees},
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


def _artifact_files(
    spec: Spec, data: ValidatedData, model: TrainedModel, ev: Evaluation
) -> dict[str, bytes]:
    """Every file of the artifact, by name."""
    train_features = data.table.features.iloc[data.parts.train]
    metrics_doc = {
        **ev.metrics,
        "curves": curves(data.y[data.parts.test], ev.p_test),
        "calibration": ev.calibration,
        "segments": ev.segments,
        "search": model.search,
    }
    return {
        "model.onnx": model.onnx_bytes,
        "model.json": dumps(_model_card(spec, data, model, ev)),
        "validation.json": dumps({"rows": data.table.rows, "passed": True, "checks": data.checks}),
        "metrics.json": dumps(metrics_doc),
        "baseline.json": dumps(baseline(train_features, model.encoders, ev.p_test)),
        "reference.json": dumps(ev.reference),
        **plot_curves(metrics_doc["curves"], ev.metrics, spec.name),
        **plot_reliability(ev.calibration, spec.name),
    }


def _train_summary(
    data: ValidatedData, model: TrainedModel, ev: Evaluation, path: Path, created: bool
) -> dict[str, Any]:
    """The `train` command's success summary, without its duration."""
    m, parity = ev.metrics, ev.parity
    return {
        "status": "succeeded",
        "exitCode": 0,
        "digest": model.digest,
        "artifact": str(path),
        "created": created,
        "rows": data.table.rows,
        "dataSha256": data.raw.sha256,
        "metrics": {
            k: m[k] for k in ("rocAuc", "prAuc", "f1", "f2", "precision", "recall", "brier")
        }
        | {"threshold": round(ev.threshold, 6)},
        "calibration": model.calibration.method,
        "worstSegment": worst_segment(ev.segments, m["f2"]),
        "search": None
        if model.search is None
        else {k: model.search[k] for k in ("trials", "metric", "cvMean", "cvStd", "best")},
        "parityMaxAbsDiff": max(parity["maxAbsDiff"], parity["probeMaxAbsDiff"]),
        "gates": {g["name"]: g["passed"] for g in ev.gates},
    }


def train_run(spec: Spec, store: Path, log: Callable[[str], None] = _log) -> dict[str, Any]:
    """Runs the whole pipeline; returns the success summary or raises a TrainerError."""
    t0 = time.monotonic()
    data = validate_data(spec, log)
    model = train_model(data, spec, log)
    ev = evaluate_model(data, model, spec, log)
    _raise_failed_gates(ev)
    path, created = write_artifact(store, _artifact_files(spec, data, model, ev))
    log(f"artifact {'written' if created else 'already present'}: {path}")
    summary = _train_summary(data, model, ev, path, created)
    return {**summary, "seconds": round(time.monotonic() - t0, 2)}
