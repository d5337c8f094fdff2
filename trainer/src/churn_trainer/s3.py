"""S3 access for datasets: `s3://bucket/key` (one object) or `s3://bucket/prefix/` (every object
under the prefix, in key order), through boto3.

boto3 rather than pyarrow's S3FileSystem: its errors carry S3's own codes (InvalidAccessKeyId,
SignatureDoesNotMatch, NoSuchBucket, NoSuchKey), which become messages that name the problem;
its streamed bodies check the length the server announced, so a transfer cut short fails
instead of passing on a truncated file; and it needs no native code. pyarrow is still what
reads Parquet (data.py). Credentials come only from the environment (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY: the operator fills them from a Secret); every failure here is a
DatasetUnavailable (exit 1).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from .errors import DatasetUnavailable
from .spec import S3Options

CONNECT_TIMEOUT_SECONDS = 10
READ_TIMEOUT_SECONDS = 60
# A refused or timed-out connection is retried twice (a server restarting, a busy node), then
# reported.
MAX_ATTEMPTS = 3

# S3 error codes, as messages that say what to fix.
CODE_MESSAGES = {
    "InvalidAccessKeyId": "the access key id is not known to the server: check AWS_ACCESS_KEY_ID "
    "in the credentials Secret",
    "SignatureDoesNotMatch": "the secret access key does not match the access key id: check "
    "AWS_SECRET_ACCESS_KEY in the credentials Secret",
    "AccessDenied": "access denied: the credentials may not read this object",
    "NoSuchBucket": "the bucket does not exist",
    "NoSuchKey": "the object does not exist",
    "404": "the object does not exist",
    "403": "access denied (HTTP 403): check the credentials Secret",
}


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str  # an object's key, or a prefix ending in "/" (or empty: the whole bucket)

    @property
    def is_prefix(self) -> bool:
        return self.key == "" or self.key.endswith("/")

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_uri(uri: str) -> S3Location:
    """`s3://bucket/key` -> S3Location; a key ending in "/" is a prefix."""
    m = re.fullmatch(r"s3://([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(.*))?", uri)
    if not m:
        raise DatasetUnavailable(
            f"not an S3 location: {uri!r} (expected s3://bucket/key or s3://bucket/prefix/)"
        )
    return S3Location(m.group(1), m.group(2) or "")


def client(options: S3Options) -> Any:
    """A boto3 S3 client for the endpoint (path-style addressing: S3-compatible servers rarely
    serve bucket subdomains), short timeouts and two retries."""
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=options.endpoint,
        region_name=options.region or "us-east-1",
        aws_access_key_id=options.access_key_id,
        aws_secret_access_key=options.secret_access_key,
        config=config,
    )


def describe_error(err: Exception, where: str, endpoint: str | None) -> str:
    """One line naming what went wrong with `where` and what to check."""
    server = (
        endpoint
        or os.environ.get("AWS_ENDPOINT_URL_S3")
        or os.environ.get("AWS_ENDPOINT_URL")
        or "the AWS S3 endpoint"
    )
    if isinstance(err, ClientError):
        code = str(err.response.get("Error", {}).get("Code", ""))
        what = CODE_MESSAGES.get(code, err.response.get("Error", {}).get("Message") or code)
        return f"{where}: {what} ({code or 'HTTP error'} from {server})"
    if isinstance(err, NoCredentialsError):
        return (
            f"{where}: no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(the TrainingRun's dataset.s3.credentialsSecret)"
        )
    if isinstance(err, ResponseStreamingError | ReadTimeoutError):
        return f"{where}: the download from {server} broke off: {err}"
    if isinstance(err, BotoConnectionError):
        return f"{where}: cannot reach the S3 endpoint {server}: {err}"
    return f"{where}: {err}"


def _objects(s3: Any, loc: S3Location) -> Iterator[tuple[str, int]]:
    """(key, size) of every object under a prefix, in key order; folder markers and names
    starting with _ or . (_SUCCESS, .crc) are skipped, as Spark and Hive writers expect."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=loc.bucket, Prefix=loc.key):
        for obj in page.get("Contents", []):
            name = obj["Key"].rsplit("/", 1)[-1]
            if name and not name.startswith(("_", ".")):
                yield obj["Key"], int(obj["Size"])


def _get(s3: Any, bucket: str, key: str) -> bytes:
    """An object's bytes; the body is checked against the announced length (botocore) and,
    for a single-part upload, against the ETag's MD5."""
    resp = s3.get_object(Bucket=bucket, Key=key)
    body = resp["Body"].read()
    etag = str(resp.get("ETag", "")).strip('"')
    if re.fullmatch(r"[0-9a-f]{32}", etag) and hashlib.md5(body).hexdigest() != etag:
        raise DatasetUnavailable(
            f"s3://{bucket}/{key}: the bytes received do not match the object's ETag "
            f"(MD5 {etag}): the download was corrupted or cut short"
        )
    return body


def read_objects(location: str, options: S3Options) -> list[tuple[str, bytes]]:
    """(key, bytes) of the object, or of every object under the prefix in key order."""
    loc = parse_s3_uri(location)
    try:
        s3 = client(options)
        keys = [k for k, _ in _objects(s3, loc)] if loc.is_prefix else [loc.key]
        if not keys:
            raise DatasetUnavailable(f"{loc}: no objects under this prefix")
        return [(k, _get(s3, loc.bucket, k)) for k in keys]
    except (ClientError, BotoCoreError) as e:
        raise DatasetUnavailable(describe_error(e, str(loc), options.endpoint)) from e
