"""A real S3 server for the tests: SeaweedFS's `weed server`, started by the repository's own
launcher (cluster/s3-server.ts, the one the local cluster and the Node tests use) in the
foreground, with a fresh random key pair, and stopped when the session ends.

`node scripts/setup.mjs` builds weed, so under CI it is always there; a run outside the set-up
on a machine without the build skips with a message saying so, instead of starting a 20-minute
build from inside pytest.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]
TSX = REPO / "node_modules" / ".bin" / "tsx"
READY_TIMEOUT_SECONDS = 120


@dataclass
class S3Server:
    endpoint: str
    access_key_id: str
    secret_access_key: str
    region: str

    def env(self) -> dict[str, str]:
        """The credentials as the trainer reads them (what the operator's Secret provides)."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }

    def client(self, access_key_id: str | None = None, secret: str | None = None) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=access_key_id or self.access_key_id,
            aws_secret_access_key=secret or self.secret_access_key,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )


def weed_built() -> bool:
    """True when the pinned weed is in the build cache (build-cache.mjs decides where)."""
    probe = (
        "import('./cluster/build-cache.mjs')"
        ".then(m => process.stdout.write(String(m.isBuilt('weed'))))"
    )
    out = subprocess.run(
        ["node", "-e", probe], cwd=REPO, capture_output=True, text=True, check=False
    )
    return out.stdout.strip() == "true"


def _read_ready_line(proc: subprocess.Popen[str]) -> dict[str, Any]:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 1.0)
        if ready:
            line = proc.stdout.readline()
            if line:
                return json.loads(line)
        if proc.poll() is not None:
            break
    proc.kill()
    err = proc.stderr.read() if proc.stderr else ""
    raise RuntimeError(f"the S3 server did not start: {err.strip()[-2000:]}")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> Any:
    if not weed_built() and os.environ.get("CI") != "true":
        pytest.skip("SeaweedFS (weed) is not built: run `node scripts/setup.mjs` first")
    proc = subprocess.Popen(
        [str(TSX), "cluster/s3-server.ts", "--dir", str(tmp_path_factory.mktemp("s3"))],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    info = _read_ready_line(proc)
    try:
        yield S3Server(
            info["endpoint"], info["accessKeyId"], info["secretAccessKey"], info["region"]
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def s3_env(s3_server, monkeypatch) -> S3Server:
    """The server, with its credentials in the environment as the trainer pod has them."""
    for k, v in s3_server.env().items():
        monkeypatch.setenv(k, v)
    return s3_server
