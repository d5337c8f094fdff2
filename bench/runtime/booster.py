"""Reproduce the exact xgboost booster behind an artifact, for peers that serve boosters.

The artifact ships ONNX only, so this runs the trainer's own steps (validate_data, train_model:
parse, validate, split, encode through the ONNX preprocessing graph, fit) on the same spec and
data, then proves the booster is the artifact's: its probabilities on reference.json's probe rows
must match the trainer's recorded ones. Writes model.ubj (xgboost's binary format, loadable by
MLServer).

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
from churn_trainer.data import model_inputs
from churn_trainer.pipeline import train_model, validate_data
from churn_trainer.spec import load_spec

TOLERANCE = 1e-6


def log(msg: str) -> None:
    print(f"[booster] {msg}", file=sys.stderr, flush=True)


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
    sess = ort.InferenceSession(str(model_dir / "model.onnx"), providers=["CPUExecutionProvider"])
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
    trained = train_model(validate_data(spec, log), spec, log)
    booster = trained.booster

    ref = json.loads((a.model_dir / "reference.json").read_text())
    probe_x = reference_features(a.model_dir, ref["rows"], spec)
    # The graph serves the calibrated probability (docs/artifact.md); the booster alone, as
    # MLServer serves it, gives the uncalibrated one, which costs the same to compute.
    margin = booster.predict(xgb.DMatrix(probe_x, missing=np.nan), output_margin=True)
    prob = trained.calibration.probability(margin)
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
