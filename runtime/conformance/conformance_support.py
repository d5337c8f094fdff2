"""What both conformance files share: the server under test and its rows (set by
runtime/src/http/v2/conformance.test.ts), and the rows as tritonclient input tensors."""

import json
import os

import numpy as np
import tritonclient.http as triton

URL = os.environ["CHURN_V2_URL"]
GRPC = os.environ["CHURN_V2_GRPC"]
MODEL = os.environ["CHURN_V2_MODEL"]
with open(os.environ["CHURN_V2_ROWS"]) as f:
    ROWS = json.load(f)
with open(os.environ["CHURN_V2_EXPECTED"]) as f:
    EXPECTED = json.load(f)
HOST = URL.removeprefix("http://")


def column(name, datatype):
    values = [row[name] for row in ROWS]
    if datatype == "BYTES":
        return np.array([str(v).encode() for v in values], dtype=np.object_)
    return np.array(values, dtype=triton.triton_to_np_dtype(datatype))


def triton_inputs(metadata, binary, module=triton):
    """Input tensors of the rows; `module` is tritonclient.http or tritonclient.grpc."""
    inputs = []
    for m in metadata["inputs"]:
        x = module.InferInput(m["name"], [len(ROWS)], m["datatype"])
        values = column(m["name"], m["datatype"])
        if module is triton:
            x.set_data_from_numpy(values, binary_data=binary)
        else:
            x.set_data_from_numpy(values)
        inputs.append(x)
    return inputs
