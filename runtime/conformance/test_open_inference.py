"""Open Inference Protocol conformance with real clients from PyPI (tritonclient, kserve).

tritonclient.grpc is tested in test_grpc_tritonclient.py, in a process of its own: its
generated protobuf module and kserve's define the same `inference.*` messages, and one
process's descriptor pool refuses the second.

Run against a live churn-runtime by runtime/src/http/v2/conformance.test.ts, which sets
CHURN_V2_URL (http://host:port), CHURN_V2_GRPC (host:port of its gRPC service), CHURN_V2_MODEL
(the model name), CHURN_V2_ROWS (a JSON file of reference rows) and CHURN_V2_EXPECTED (their
probabilities as /v1 answers them).
"""

import asyncio

import numpy as np
import pytest
import tritonclient.http as triton
from conformance_support import (
    EXPECTED,
    GRPC,
    MODEL,
    ROWS,
    URL,
    column,
    triton_inputs,
)
from kserve import (
    InferenceGRPCClient,
    InferenceRESTClient,
    InferInput,
    InferRequest,
    RESTConfig,
)
from kserve.protocol.infer_type import RequestedOutput
from tritonclient.utils import InferenceServerException


def test_server_and_model_are_live_and_ready(client, metadata):
    assert client.is_server_live()
    assert client.is_server_ready()
    assert client.is_model_ready(MODEL)
    assert client.get_server_metadata()["extensions"] == ["binary_tensor_data"]
    assert [o["name"] for o in metadata["outputs"]] == [
        "probability",
        "label",
        "contributions",
        "base_value",
    ]


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_tritonclient_scores_like_v1(client, metadata, binary):
    result = client.infer(MODEL, triton_inputs(metadata, binary), request_id="r-1")
    probability = result.as_numpy("probability")
    assert probability.dtype == np.float32
    np.testing.assert_array_equal(probability, np.array(EXPECTED, dtype=np.float32))
    assert set(np.unique(result.as_numpy("label"))) <= {0, 1}
    assert result.as_numpy("contributions") is None
    assert result.get_response()["id"] == "r-1"


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_tritonclient_asks_for_contributions(client, metadata, binary):
    outputs = [
        triton.InferRequestedOutput("probability", binary_data=binary),
        triton.InferRequestedOutput("contributions", binary_data=binary),
        triton.InferRequestedOutput("base_value", binary_data=binary),
    ]
    version = metadata["versions"][0]
    result = client.infer(
        MODEL, triton_inputs(metadata, binary), outputs=outputs, model_version=version
    )
    phi = result.as_numpy("contributions")
    assert phi.shape == (len(ROWS), len(metadata["inputs"]))
    log_odds = result.as_numpy("base_value") + phi.sum(axis=1)
    p = result.as_numpy("probability")
    np.testing.assert_allclose(1 / (1 + np.exp(-log_odds)), p, atol=1e-5)
    assert result.as_numpy("label") is None


def test_tritonclient_sees_clear_errors(client, metadata):
    inputs = triton_inputs(metadata, True)[1:]
    with pytest.raises(InferenceServerException, match=metadata["inputs"][0]["name"]):
        client.infer(MODEL, inputs)
    with pytest.raises(InferenceServerException, match="unknown model"):
        client.infer("no-such-model", triton_inputs(metadata, True))
    outputs = [triton.InferRequestedOutput("no_such_output")]
    with pytest.raises(InferenceServerException, match="no_such_output"):
        client.infer(MODEL, triton_inputs(metadata, True), outputs=outputs)


def kserve_request(metadata, outputs=None):
    inputs = []
    for m in metadata["inputs"]:
        x = InferInput(m["name"], [len(ROWS)], m["datatype"])
        values = column(m["name"], m["datatype"])
        x.set_data_from_numpy(values, binary_data=False)
        inputs.append(x)
    return InferRequest(
        model_name=MODEL, infer_inputs=inputs, request_id="k-1", request_outputs=outputs
    )


def test_kserve_rest_client(metadata):
    async def run():
        client = InferenceRESTClient(RESTConfig(protocol="v2"))
        try:
            assert await client.is_server_live(URL)
            assert await client.is_server_ready(URL)
            assert await client.is_model_ready(URL, MODEL)
            plain = await client.infer(URL, kserve_request(metadata), model_name=MODEL)
            wanted = [RequestedOutput("probability"), RequestedOutput("contributions")]
            explained = await client.infer(URL, kserve_request(metadata, wanted), model_name=MODEL)
            return plain, explained
        finally:
            await client.close()

    plain, explained = asyncio.run(run())
    assert plain.id == "k-1"
    by_name = {o.name: o for o in plain.outputs}
    np.testing.assert_array_equal(
        by_name["probability"].as_numpy(), np.array(EXPECTED, dtype=np.float32)
    )
    assert [o.name for o in explained.outputs] == ["probability", "contributions"]
    assert explained.outputs[1].as_numpy().shape == (len(ROWS), len(metadata["inputs"]))


def test_kserve_grpc_client(metadata):
    async def run():
        client = InferenceGRPCClient(GRPC)
        try:
            assert await client.is_server_ready()
            assert await client.is_model_ready(MODEL)
            return await client.infer(kserve_request(metadata))
        finally:
            await client.close()

    answer = asyncio.run(run())
    by_name = {o.name: o for o in answer.outputs}
    np.testing.assert_array_equal(
        by_name["probability"].as_numpy(), np.array(EXPECTED, dtype=np.float32)
    )
