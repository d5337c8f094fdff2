"""The conformance files' fixtures: a tritonclient HTTP client and the model's metadata."""

import pytest
import tritonclient.http as triton
from conformance_support import HOST, MODEL


@pytest.fixture(scope="module")
def client():
    c = triton.InferenceServerClient(HOST)
    yield c
    c.close()


@pytest.fixture(scope="module")
def metadata(client):
    return client.get_model_metadata(MODEL)
