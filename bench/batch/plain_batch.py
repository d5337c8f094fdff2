"""The plain Python peer of `churn-runtime batch`: pandas reads the CSV in chunks, onnxruntime
scores each chunk with the same model.onnx, pyarrow writes one Parquet file. Prints its CPU time
and peak RSS as JSON on the last line (what bench/batch/run.mjs compares)."""

import json
import resource
import sys

import onnxruntime as ort
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def main(model_dir: str, data: str, out: str, chunk_rows: int) -> None:
    with open(f"{model_dir}/model.json") as f:
        card = json.load(f)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    sess = ort.InferenceSession(
        f"{model_dir}/model.onnx", options, providers=["CPUExecutionProvider"]
    )
    inputs = {i.name: i.type for i in sess.get_inputs()}
    id_column = card["schema"]["idColumn"]
    threshold = card["threshold"]["value"]
    writer = None
    rows = 0
    for chunk in pd.read_csv(data, chunksize=chunk_rows):
        feeds = {}
        for name, typ in inputs.items():
            col = chunk[name]
            if "string" in typ:
                feeds[name] = col.fillna("").astype(str).to_numpy().reshape(-1, 1)
            else:
                feeds[name] = col.astype("float32").to_numpy().reshape(-1, 1)
        p = sess.run(["probability"], feeds)[0].reshape(-1).astype("float64")
        table = pa.table(
            {id_column: chunk[id_column].astype(str), "probability": p, "label": p >= threshold}
        )
        writer = writer or pq.ParquetWriter(out, table.schema)
        writer.write_table(table)
        rows += len(chunk)
    if writer:
        writer.close()
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
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
