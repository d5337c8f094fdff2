"""Content-addressed, write-once artifact directories (temp dir, fsync, rename)."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any


def dumps(doc: Any) -> bytes:
    """Stable, strict JSON (NaN/Infinity are not JSON and are refused)."""
    return (json.dumps(doc, indent=2, allow_nan=False, ensure_ascii=False) + "\n").encode()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_artifact(store: Path, files: dict[str, bytes]) -> tuple[Path, bool]:
    """Writes `files` under <store>/<sha256(model.onnx)>; returns (path, created).

    An existing digest directory is left untouched (same model bytes, same model). Nothing
    partial is ever visible under the digest name, and the temp dir is removed on any failure.
    """
    digest = hashlib.sha256(files["model.onnx"]).hexdigest()
    store.mkdir(parents=True, exist_ok=True)
    final = store / digest
    if final.exists():
        return final, False
    tmp = store / f".tmp-{secrets.token_hex(8)}"
    try:
        tmp.mkdir()
        for name, content in files.items():
            target = tmp / name
            with open(target, "wb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
        _fsync(tmp)
        try:
            os.rename(tmp, final)
        except OSError:
            if final.exists():  # a concurrent writer of the same model won the race
                shutil.rmtree(tmp, ignore_errors=True)
                return final, False
            raise
        _fsync(store)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final, True
