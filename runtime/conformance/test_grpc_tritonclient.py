"""tritonclient.grpc against a live churn-runtime's gRPC service.

In a process of its own: see test_open_inference.py.
"""

import numpy as np
import pytest
import tritonclient.grpc as triton_grpc
from conformance_support import (
    EXPECTED,
    GRPC,
    MODEL,
    ROWS,
    triton_inputs,
)
from tritonclient.utils import InferenceServerException


def test_tritonclient_over_grpc(metadata):
    client = triton_grpc.InferenceServerClient(GRPC)
    assert client.is_server_live()
    assert client.is_server_ready()
    assert client.is_model_ready(MODEL)
    grpc_metadata = client.get_model_metadata(MODEL, as_json=True)
    assert [i["name"] for i in grpc_metadata["inputs"]] == [i["name"] for i in metadata["inputs"]]
    inputs = triton_inputs(metadata, True, triton_grpc)
    result = client.infer(MODEL, inputs, request_id="g-1")
    np.testing.assert_array_equal(
        result.as_numpy("probability"), np.array(EXPECTED, dtype=np.float32)
    )
    assert result.get_response().id == "g-1"
    wanted = [triton_grpc.InferRequestedOutput(n) for n in ("contributions", "base_value")]
    explained = client.infer(MODEL, inputs, outputs=wanted)
    phi = explained.as_numpy("contributions")
    assert phi.shape == (len(ROWS), len(metadata["inputs"]))
    assert explained.as_numpy("probability") is None
    with pytest.raises(InferenceServerException, match="NOT_FOUND"):
        client.infer("no-such-model", inputs)
    with pytest.raises(InferenceServerException, match=r"INVALID_ARGUMENT.*lacks"):
        client.infer(MODEL, inputs[1:])
    client.close()
