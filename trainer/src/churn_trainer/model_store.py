"""The model store in S3: an artifact directory under `<prefix>/<digest>/`, published so that
nothing is readable as a model until all of it is there.

Writing: every file is put first, each with its sha256 as an S3 checksum (the server refuses a
body that does not match), then `_COMPLETE`, a manifest naming each file with its size and
sha256. Readers look for `_COMPLETE` only: without it the directory is not a model (a trainer
that died mid-upload leaves objects nobody reads); with it, every file is downloaded, its
sha256 checked against the manifest, and `model.onnx`'s against the digest in the path. The
digest is the artifact's identity (sha256 of model.onnx, as in the PVC store), so a second
upload of the same model finds `_COMPLETE` and writes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .errors import TrainerError
from .s3 import S3Location, client, describe_error, parse_s3_uri
from .spec import S3Options

MANIFEST = "_COMPLETE"
MANIFEST_KIND = "churn-operator/artifact-manifest"


class ModelStoreError(TrainerError):
    """The S3 model store could not be written or read, or held something that is not a whole,
    matching artifact (exit 1)."""

    # the operator names it (reason ModelStoreUnavailable) instead of a generic crash
    status = "model-store"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_for(digest: str, files: dict[str, bytes]) -> dict[str, Any]:
    """The `_COMPLETE` document: the digest and every file's size and sha256."""
    return {
        "kind": MANIFEST_KIND,
        "digest": digest,
        "files": {
            name: {"bytes": len(body), "sha256": _sha256(body)}
            for name, body in sorted(files.items())
        },
    }


def _store_error(e: Exception, where: str, options: S3Options) -> ModelStoreError:
    return ModelStoreError(describe_error(e, where, options.endpoint))


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as e:
        if str(e.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def upload_artifact(artifact_dir: Path, prefix_uri: str, options: S3Options) -> tuple[str, bool]:
    """Publishes a local artifact directory (named by its digest) under
    `<prefix>/<digest>/`; returns (the artifact's s3:// URI, whether it was written now)."""
    digest = artifact_dir.name
    files = {p.name: p.read_bytes() for p in sorted(artifact_dir.iterdir()) if p.is_file()}
    if _sha256(files.get("model.onnx", b"")) != digest:
        raise ModelStoreError(f"{artifact_dir} is not an artifact: model.onnx does not hash to it")
    base = parse_s3_uri(prefix_uri.rstrip("/") + "/")
    loc = S3Location(base.bucket, f"{base.key}{digest}/")
    try:
        s3 = client(options)
        if _exists(s3, loc.bucket, loc.key + MANIFEST):
            return str(loc), False
        for name, body in files.items():
            s3.put_object(
                Bucket=loc.bucket,
                Key=loc.key + name,
                Body=body,
                ChecksumSHA256=base64.b64encode(hashlib.sha256(body).digest()).decode(),
            )
        manifest = json.dumps(manifest_for(digest, files), indent=2).encode()
        s3.put_object(Bucket=loc.bucket, Key=loc.key + MANIFEST, Body=manifest)
    except (ClientError, BotoCoreError) as e:
        raise _store_error(e, str(loc), options) from e
    return str(loc), True


def _read_manifest(s3: Any, loc: S3Location, digest: str) -> dict[str, Any]:
    try:
        raw = s3.get_object(Bucket=loc.bucket, Key=loc.key + MANIFEST)["Body"].read()
    except ClientError as e:
        if str(e.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey"):
            raise ModelStoreError(
                f"{loc}: no {MANIFEST} manifest: the artifact is incomplete (its upload did not "
                "finish) or does not exist"
            ) from e
        raise
    try:
        manifest = json.loads(raw)
        files = manifest["files"]
        assert manifest.get("kind") == MANIFEST_KIND and isinstance(files, dict)
    except (ValueError, KeyError, AssertionError) as e:
        raise ModelStoreError(f"{loc}{MANIFEST} is not an artifact manifest") from e
    if manifest.get("digest") != digest:
        raise ModelStoreError(f"{loc}: the manifest is for {manifest.get('digest')}, not {digest}")
    return files


def _verified(s3: Any, loc: S3Location, name: str, expected: dict[str, Any]) -> bytes:
    body = s3.get_object(Bucket=loc.bucket, Key=loc.key + name)["Body"].read()
    if len(body) != expected.get("bytes") or _sha256(body) != expected.get("sha256"):
        raise ModelStoreError(
            f"{loc}{name}: {len(body)} bytes with sha256 {_sha256(body)}, but the manifest says "
            f"{expected.get('bytes')} bytes with sha256 {expected.get('sha256')}: the object "
            "was changed or truncated after upload"
        )
    return body


def download_artifact(uri: str, dest: Path, options: S3Options) -> Path:
    """Downloads the artifact at `s3://bucket/prefix/<digest>/` into `dest/<digest>` (through
    a temp dir renamed into place) and returns that path; refuses, leaving nothing, an
    artifact without its manifest, a file that does not match it, or a model.onnx that does
    not hash to the digest."""
    loc = parse_s3_uri(uri.rstrip("/") + "/")
    digest = loc.key.rstrip("/").rsplit("/", 1)[-1]
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ModelStoreError(f"{uri}: the last path segment must be the artifact's sha256 digest")
    dest.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=dest))
    try:
        s3 = client(options)
        files = _read_manifest(s3, loc, digest)
        if "model.onnx" not in files:
            raise ModelStoreError(f"{loc}{MANIFEST}: the manifest lists no model.onnx")
        for name, expected in files.items():
            if "/" in name or name.startswith("."):
                raise ModelStoreError(f"{loc}{MANIFEST}: unsafe file name {name!r}")
            (tmp / name).write_bytes(_verified(s3, loc, name, expected))
        if _sha256((tmp / "model.onnx").read_bytes()) != digest:
            raise ModelStoreError(f"{loc}: model.onnx does not hash to the digest {digest}")
        final = dest / digest
        if final.exists():
            shutil.rmtree(final)
        os.rename(tmp, final)
        return final
    except (ClientError, BotoCoreError) as e:
        raise _store_error(e, str(loc), options) from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
