"""The local S3 server (SeaweedFS) the storage tests and the cluster use: it starts, stores and
returns an object for the right keys, and refuses wrong or missing ones."""

from __future__ import annotations

# ruff: noqa: F811  (pytest passes the imported fixtures back in as arguments)
import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from s3_fixture import s3_server  # noqa: F401  (the fixture)


def error_code(call) -> str:
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


def test_put_and_get_with_the_right_keys(s3_server):
    s3 = s3_server.client()
    s3.create_bucket(Bucket="server-check")
    s3.put_object(Bucket="server-check", Key="a/b.txt", Body=b"hello s3")
    got = s3.get_object(Bucket="server-check", Key="a/b.txt")["Body"].read()
    assert got == b"hello s3"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="server-check")["Contents"]] == ["a/b.txt"]


def test_refuses_wrong_and_missing_keys(s3_server):
    s3_server.client().create_bucket(Bucket="server-refuse")
    s3_server.client().put_object(Bucket="server-refuse", Key="k", Body=b"secret")
    unknown = s3_server.client(access_key_id="AKNOTAKEY0000000000X")
    assert error_code(lambda: unknown.get_object(Bucket="server-refuse", Key="k")) == (
        "InvalidAccessKeyId"
    )
    wrong_secret = s3_server.client(secret="x" * 40)
    assert error_code(lambda: wrong_secret.get_object(Bucket="server-refuse", Key="k")) == (
        "SignatureDoesNotMatch"
    )
    assert error_code(
        lambda: wrong_secret.put_object(Bucket="server-refuse", Key="k", Body=b"")
    ) == ("SignatureDoesNotMatch")
    anonymous = boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint,
        region_name=s3_server.region,
        config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"}),
    )
    assert error_code(lambda: anonymous.get_object(Bucket="server-refuse", Key="k")) == (
        "AccessDenied"
    )
    # the refused writes changed nothing
    body = s3_server.client().get_object(Bucket="server-refuse", Key="k")["Body"].read()
    assert body == b"secret"
