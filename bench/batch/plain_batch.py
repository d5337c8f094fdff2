"""The plain Python peer of `churn-runtime batch`: pandas reads the CSV in chunks, onnxruntime
scores each chunk with the same model.onnx, pyarrow writes one Parquet file. With `--booster`
and `--explain-top-k K` it also writes each customer's K strongest SHAP drivers the way a Python
team would: the graph's own encoded vectors, xgboost's native `pred_contribs` on the artifact's
booster (bench/runtime/booster.py reproduces it), one-hot columns summed back to their raw
column, scaled to the calibrated log-odds like the runtime's explanations. Prints its CPU time
and peak RSS as JSON on the last line (what bench/batch/run.mjs compares)."""

from __future__ import annotations

import argparse
import json
import resource

import numpy as np
import onnxruntime as ort
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


class Drivers:
    """Top-k SHAP drivers per row, in raw columns, strongest first (ties by name, as the
    runtime's `topDrivers`)."""

    def __init__(self, card: dict, booster_path: str, k: int) -> None:
        import xgboost as xgb

        self.xgb = xgb
        self.booster = xgb.Booster()
        self.booster.load_model(booster_path)
        self.booster.set_param({"nthread": 1})
        raw = card["features"]["raw"]
        to_raw = card["features"]["encodedToRaw"]
        self.names = np.array(raw, dtype=object)
        # encoded -> raw as a 0/1 matrix: one matmul sums each one-hot group.
        self.fold = np.zeros((len(to_raw), len(raw)), dtype=np.float64)
        self.fold[np.arange(len(to_raw)), to_raw] = 1.0
        calibration = card.get("calibration") or {}
        self.scale = calibration.get("a", 1.0) if calibration.get("method") == "sigmoid" else 1.0
        self.order = np.argsort(self.names)  # name rank, the tie-break
        self.rank = np.empty(len(raw), dtype=np.int64)
        self.rank[self.order] = np.arange(len(raw))
        self.k = k

    def columns(self, features: np.ndarray) -> dict[str, pa.Array]:
        dm = self.xgb.DMatrix(features, missing=np.nan, nthread=1)
        contribs = self.booster.predict(dm, pred_contribs=True)[:, :-1]
        raw = (contribs.astype(np.float64) @ self.fold) * self.scale
        # strongest |contribution| first, then the name: lexsort's last key is the primary one.
        top = np.lexsort((np.broadcast_to(self.rank, raw.shape), -np.abs(raw)), axis=1)
        top = top[:, : self.k]
        out: dict[str, pa.Array] = {}
        for j in range(self.k):
            idx = top[:, j]
            out[f"driver{j + 1}"] = pa.array(self.names[idx], type=pa.string())
            out[f"driver{j + 1}Contribution"] = pa.array(raw[np.arange(len(raw)), idx])
        return out


def feeds_of(chunk: pd.DataFrame, inputs: dict[str, str]) -> dict[str, np.ndarray]:
    feeds = {}
    for name, typ in inputs.items():
        col = chunk[name]
        if "string" in typ:
            feeds[name] = col.fillna("").astype(str).to_numpy().reshape(-1, 1)
        else:
            feeds[name] = col.astype("float32").to_numpy().reshape(-1, 1)
    return feeds


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model_dir")
    p.add_argument("data")
    p.add_argument("out")
    p.add_argument("chunk_rows", type=int)
    p.add_argument("--booster", help="the artifact's xgboost booster (model.ubj)")
    p.add_argument("--explain-top-k", type=int, default=0)
    return p.parse_args()


def session(model_dir: str) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(
        f"{model_dir}/model.onnx", options, providers=["CPUExecutionProvider"]
    )


def score(a: argparse.Namespace, card: dict, sess: ort.InferenceSession) -> int:
    """Score the CSV chunk by chunk into one Parquet file; returns the rows written."""
    inputs = {i.name: i.type for i in sess.get_inputs()}
    id_column = card["schema"]["idColumn"]
    threshold = card["threshold"]["value"]
    drivers = Drivers(card, a.booster, a.explain_top_k) if a.explain_top_k > 0 else None
    fetches = ["probability", "features"] if drivers else ["probability"]
    writer = None
    rows = 0
    for chunk in pd.read_csv(a.data, chunksize=a.chunk_rows):
        outs = sess.run(fetches, feeds_of(chunk, inputs))
        prob = outs[0].reshape(-1).astype("float64")
        columns = {
            id_column: pa.array(chunk[id_column].astype(str)),
            "probability": pa.array(prob),
            "label": pa.array(prob >= threshold),
        }
        if drivers:
            columns.update(drivers.columns(outs[1]))
        table = pa.table(columns)
        writer = writer or pq.ParquetWriter(a.out, table.schema)
        writer.write_table(table)
        rows += len(chunk)
    if writer:
        writer.close()
    return rows


def main() -> None:
    a = parse_args()
    with open(f"{a.model_dir}/model.json") as f:
        card = json.load(f)
    rows = score(a, card, session(a.model_dir))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "rows": rows,
                "cpuSeconds": usage.ru_utime + usage.ru_stime,
                "maxRssKb": usage.ru_maxrss,
            }
        )
    )


if __name__ == "__main__":
    main()
