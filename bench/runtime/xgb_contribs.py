"""xgboost's own SHAP speed: pred_contribs one row at a time (and one batch), time-bounded.

usage: python bench/runtime/xgb_contribs.py --booster model.ubj --features X.npy --seconds 5
Prints one JSON object: rows/s per row and batched, and per-call latency percentiles.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import xgboost as xgb


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--booster", required=True)
    p.add_argument("--features", required=True)
    p.add_argument("--seconds", type=float, default=5.0)
    a = p.parse_args()

    booster = xgb.Booster()
    booster.load_model(a.booster)
    booster.set_param({"nthread": 1})
    x = np.load(a.features).astype(np.float32)

    lat = []
    i = 0
    deadline = time.perf_counter() + a.seconds
    while time.perf_counter() < deadline:
        row = x[i % len(x)][None, :]
        t = time.perf_counter()
        booster.predict(xgb.DMatrix(row, missing=np.nan, nthread=1), pred_contribs=True)
        lat.append(time.perf_counter() - t)
        i += 1
    total = sum(lat)

    batch_rows = 0
    t0 = time.perf_counter()
    deadline = t0 + min(a.seconds, 2.0)
    dm = xgb.DMatrix(x, missing=np.nan, nthread=1)
    while time.perf_counter() < deadline:
        booster.predict(dm, pred_contribs=True)
        batch_rows += len(x)
    batch_time = time.perf_counter() - t0

    print(
        json.dumps(
            {
                "perRowRowsPerSec": len(lat) / total,
                "perRowP50Ms": float(np.percentile(lat, 50) * 1e3),
                "perRowP99Ms": float(np.percentile(lat, 99) * 1e3),
                "batchRowsPerSec": batch_rows / batch_time,
                "batchSize": len(x),
                "threads": 1,
            }
        )
    )


if __name__ == "__main__":
    main()
