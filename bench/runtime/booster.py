"""Reproduce the exact xgboost booster behind an artifact, for peers that serve boosters.

The artifact ships ONNX only, so this replays the trainer's own steps (parse, validate, split,
encode through the ONNX preprocessing graph, fit) on the same spec and data, then proves the
booster is the artifact's: its probabilities on reference.json's probe rows must match the
trainer's recorded ones. Writes model.ubj (xgboost's binary format, loadable by MLServer).

usage: python bench/runtime/booster.py --spec S --data D --model-dir ARTIFACT --output model.ubj
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import xgboost as xgb
from churn_trainer.data import fetch, model_inputs, parse
from churn_trainer.encode import fit_encoders
from churn_trainer.export import preprocessing_model, run_batched, session
from churn_trainer.spec import load_spec
from churn_trainer.train import fit, resolve_hyperparameters, split_rows
from churn_trainer.validate import validate

TOLERANCE = 1e-6


def reference_features(model_dir: Path, rows: list[dict], spec) -> np.ndarray:
    """The encoded vectors of the probe rows, from the artifact's own graph."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    for f in spec.schema.features:
        if f.is_string:
            col = frame[f.name].astype("object")
            frame[f.name] = col.where(col.notna(), None)
        else:
            frame[f.name] = frame[f.name].astype("float64")
    sess = ort.InferenceSession(
        str(model_dir / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    (features,) = sess.run(["features"], model_inputs(frame, spec))
    return features


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spec", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--model-dir", required=True, type=Path)
    p.add_argument("--output", required=True, type=Path)
    a = p.parse_args()

    spec = load_spec(a.spec, data_override=a.data)
    checks: list = []
    table = parse(fetch(spec.dataset.location), spec, checks)
    validate(table, spec, checks)
    y = table.y.astype(np.int8)
    parts = split_rows(y, spec, checks)
    encoders = fit_encoders(table.features.iloc[parts.train], spec)
    (x,) = run_batched(
        session(preprocessing_model(encoders)),
        model_inputs(table.features, spec),
        ["features"],
    )
    params = resolve_hyperparameters(spec, y[parts.train])
    booster = fit(x[parts.train], y[parts.train], params).get_booster()

    ref = json.loads((a.model_dir / "reference.json").read_text())
    probe_x = reference_features(a.model_dir, ref["rows"], spec)
    prob = booster.predict(xgb.DMatrix(probe_x, missing=np.nan))
    gap = float(np.max(np.abs(prob - np.array(ref["probabilities"]))))
    if gap > TOLERANCE:
        print(
            f"reproduced booster differs from the artifact by {gap:.2e}",
            file=sys.stderr,
        )
        return 1
    a.output.parent.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(a.output))
    np.save(a.output.with_suffix(".probe-features.npy"), probe_x)
    print(json.dumps({"booster": str(a.output), "probeMaxAbsDiff": gap}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
