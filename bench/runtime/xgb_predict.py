"""xgboost's own prediction speed on the encoded vectors: inplace_predict, one thread.

The in-process floor the runtime's scoring engine is held to (issue 11): the same booster and
the same float32 rows the server's graph encodes, no DMatrix build, no HTTP.

usage: python bench/runtime/xgb_predict.py --booster model.ubj --features X.f32 --width F
         --batches 1,1000 --seconds 5
Prints one JSON object per batch size: calls and rows per second (wall and CPU), latency
percentiles.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import xgboost as xgb


def measure(booster: xgb.Booster, x: np.ndarray, batch: int, seconds: float) -> dict:
    """Times inplace_predict on consecutive slices of `batch` rows for `seconds`."""
    n = len(x)
    slices = [x[i : i + batch] for i in range(0, n - batch + 1, batch)] or [x[:batch]]
    for s in slices[:20]:
        booster.inplace_predict(s, missing=np.nan)  # warm-up
    lat = []
    i = 0
    cpu0 = time.process_time()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        s = slices[i % len(slices)]
        t = time.perf_counter()
        booster.inplace_predict(s, missing=np.nan)
        lat.append(time.perf_counter() - t)
        i += 1
    cpu = time.process_time() - cpu0
    total = sum(lat)
    return {
        "batch": batch,
        "callsPerSec": len(lat) / total,
        "rowsPerSec": len(lat) * batch / total,
        "rowsPerSecPerCore": len(lat) * batch / max(cpu, 1e-9),
        "cores": cpu / total,
        "p50Ms": float(np.percentile(lat, 50) * 1e3),
        "p99Ms": float(np.percentile(lat, 99) * 1e3),
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--booster", required=True)
    p.add_argument("--features", required=True)
    p.add_argument("--width", required=True, type=int)
    p.add_argument("--batches", default="1,1000")
    p.add_argument("--seconds", type=float, default=5.0)
    a = p.parse_args()

    booster = xgb.Booster()
    booster.load_model(a.booster)
    booster.set_param({"nthread": 1})
    x = np.fromfile(a.features, dtype=np.float32).reshape(-1, a.width)
    out = [measure(booster, x, int(b), a.seconds) for b in a.batches.split(",")]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
