"""Batch scoring over each protocol of one running churn-runtime, by real clients.

Prints rows/s for /v1/score (JSON rows), /v2 REST with JSON tensors, /v2 REST with binary
tensors (tritonclient's default) and /v2 gRPC (tritonclient.grpc, raw contents), one client
thread, client-side encoding included. Run with the clients' venv (scripts/setup.mjs):

  .cache/v2-clients-venv/bin/python bench/protocols/protocols.py \\
      --http 127.0.0.1:8080 --grpc 127.0.0.1:8081 --model bank-churn --rows rows.json
"""

import argparse
import json
import time
import urllib.request

import numpy as np
import tritonclient.grpc as tgrpc
import tritonclient.http as thttp


def columns(rows, metadata):
    out = []
    for m in metadata["inputs"]:
        values = [row[m["name"]] for row in rows]
        if m["datatype"] == "BYTES":
            out.append(np.array([str(v).encode() for v in values], dtype=np.object_))
        else:
            out.append(np.array(values, dtype=thttp.triton_to_np_dtype(m["datatype"])))
    return out


def tensors(module, metadata, cols, binary=None):
    out = []
    for m, values in zip(metadata["inputs"], cols, strict=True):
        x = module.InferInput(m["name"], [len(values)], m["datatype"])
        if binary is None:
            x.set_data_from_numpy(values)
        else:
            x.set_data_from_numpy(values, binary_data=binary)
        out.append(x)
    return out


def rate(call, rows, seconds):
    call()  # warm
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        call()
        n += 1
    elapsed = time.perf_counter() - start
    return n * rows / elapsed, elapsed / n * 1000


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--http", required=True)
    p.add_argument("--grpc", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--rows", required=True, help="JSON list of rows (repeated to --batch)")
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=5)
    a = p.parse_args()
    with open(a.rows) as f:
        base = json.load(f)
    rows = (base * (a.batch // len(base) + 1))[: a.batch]
    http = thttp.InferenceServerClient(a.http, network_timeout=300)
    grpc = tgrpc.InferenceServerClient(a.grpc)
    metadata = http.get_model_metadata(a.model)
    cols = columns(rows, metadata)
    body = json.dumps({"instances": rows}).encode()
    v1 = urllib.request.Request(
        f"http://{a.http}/v1/score", data=body, headers={"content-type": "application/json"}
    )
    json_outputs = [
        thttp.InferRequestedOutput(n, binary_data=False) for n in ("probability", "label")
    ]
    cases = {
        "/v1/score, JSON rows": lambda: urllib.request.urlopen(v1).read(),
        "/v2 REST, JSON tensors": lambda: http.infer(
            a.model, tensors(thttp, metadata, cols, False), outputs=json_outputs
        ),
        "/v2 REST, binary tensors": lambda: http.infer(
            a.model, tensors(thttp, metadata, cols, True)
        ),
        "/v2 gRPC": lambda: grpc.infer(a.model, tensors(tgrpc, metadata, cols)),
    }
    print(f"batch {a.batch}, one client thread, {a.seconds:g} s each")
    for name, call in cases.items():
        rows_per_s, ms = rate(call, a.batch, a.seconds)
        print(f"{name:28s} {rows_per_s:10,.0f} rows/s  {ms:7.1f} ms per request")


if __name__ == "__main__":
    main()
