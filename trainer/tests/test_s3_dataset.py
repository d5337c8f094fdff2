"""Datasets in S3 (against a real SeaweedFS): CSV and Parquet, one object or a prefix of parts,
and every way the read can fail, each with exit 1 (data source) or 2 (content), a message that
names the problem, and nothing written to the model store."""

from __future__ import annotations

# ruff: noqa: F811  (pytest passes the imported fixtures back in as arguments)
import hashlib
import io
import json
import socket
import threading

import pandas as pd
import pytest
from conftest import run_cli, small_spec, store_entries, write_spec
from s3_fixture import s3_env, s3_server  # noqa: F401  (the fixtures)

BUCKET = "churn-data"


@pytest.fixture(scope="module")
def objects(s3_server, synth_csv):
    """The synthetic customers in S3 as one CSV, one Parquet file, a prefix of three CSV parts
    and a prefix of two Parquet parts (plus a _SUCCESS marker, which readers skip)."""
    s3 = s3_server.client()
    s3.create_bucket(Bucket=BUCKET)
    frame = pd.read_csv(synth_csv)
    csv = synth_csv.read_bytes()

    def parquet(df: pd.DataFrame) -> bytes:
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        return buf.getvalue()

    puts = {"one/customers.csv": csv, "one/customers.parquet": parquet(frame)}
    for i, part in enumerate((frame[:1000], frame[1000:2200], frame[2200:])):
        puts[f"csv-parts/part-{i}.csv"] = part.to_csv(index=False).encode()
    for i, part in enumerate((frame[:1500], frame[1500:])):
        puts[f"parquet-parts/part-{i}.parquet"] = parquet(part)
    puts["parquet-parts/_SUCCESS"] = b""
    puts["broken/customers.parquet"] = parquet(frame)[:-200]  # cut off before its footer
    for key, body in puts.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return {"csv": csv, "rows": len(frame)}


def run(capsys, tmp_path, synth_csv, location, endpoint, command="train", **dataset):
    spec = small_spec(synth_csv)
    spec["dataset"] = {"location": location, "s3": {"endpoint": endpoint}, **dataset}
    path = write_spec(tmp_path, spec)
    store = tmp_path / "store"
    args = [command, "--spec", str(path)] + (["--output", str(store)] if command == "train" else [])
    code, summary, err = run_cli(capsys, *args)
    if code:
        assert store_entries(store) == [], "a failed run must leave nothing in the store"
    return code, summary, err, store


def test_trains_from_a_csv_object_and_records_where_it_came_from(
    capsys,
    tmp_path,
    synth_csv,
    s3_env,
    objects,
):
    uri = f"s3://{BUCKET}/one/customers.csv"
    code, s, err, store = run(capsys, tmp_path, synth_csv, uri, s3_env.endpoint)
    assert code == 0, err
    assert uri in err
    card = json.loads((store / s["digest"] / "model.json").read_text())
    assert card["data"]["location"] == uri
    assert card["data"]["sha256"] == hashlib.sha256(objects["csv"]).hexdigest()


def test_parquet_trains_the_same_model_as_the_csv(
    capsys,
    tmp_path,
    synth_csv,
    s3_env,
    objects,
):
    """One Parquet object and a prefix of Parquet parts hold the same rows as the CSV: the
    metrics of the three models are equal."""
    metrics = []
    for i, key in enumerate(("one/customers.csv", "one/customers.parquet", "parquet-parts/")):
        where = tmp_path / str(i)
        where.mkdir()
        fmt = {"format": "parquet"} if key.endswith("/") else {}
        code, s, err, _ = run(
            capsys, where, synth_csv, f"s3://{BUCKET}/{key}", s3_env.endpoint, **fmt
        )
        assert code == 0, err
        assert s["rows"] == objects["rows"]
        metrics.append(s["metrics"])
    assert metrics[0] == metrics[1] == metrics[2]


def test_a_csv_prefix_is_its_parts_in_key_order(capsys, tmp_path, synth_csv, s3_env, objects):
    code, s, err, _ = run(
        capsys, tmp_path, synth_csv, f"s3://{BUCKET}/csv-parts/", s3_env.endpoint, "validate"
    )
    assert code == 0, err
    assert s["rows"] == objects["rows"]


def assert_fails(result, exit_code: int, *words: str) -> None:
    code, s, err, _ = result
    assert code == exit_code, (s, err)
    for w in words:
        assert w.lower() in s["message"].lower(), (w, s["message"])


def test_wrong_access_key(capsys, tmp_path, synth_csv, s3_env, objects, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKNOTAKEY0000000000X")
    result = run(capsys, tmp_path, synth_csv, f"s3://{BUCKET}/one/customers.csv", s3_env.endpoint)
    assert_fails(result, 1, "InvalidAccessKeyId", "AWS_ACCESS_KEY_ID", BUCKET)


def test_wrong_secret(capsys, tmp_path, synth_csv, s3_env, objects, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x" * 40)
    result = run(capsys, tmp_path, synth_csv, f"s3://{BUCKET}/one/customers.csv", s3_env.endpoint)
    assert_fails(result, 1, "SignatureDoesNotMatch", "AWS_SECRET_ACCESS_KEY")


def test_no_credentials(capsys, tmp_path, synth_csv, s3_server, objects, monkeypatch):
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = run(capsys, tmp_path, synth_csv, f"s3://{BUCKET}/one/x.csv", s3_server.endpoint)
    assert_fails(result, 1, "no S3 credentials", "credentialsSecret")


def test_missing_key_bucket_and_prefix(capsys, tmp_path, synth_csv, s3_env, objects):
    for location, words in [
        (f"s3://{BUCKET}/one/nope.csv", ("NoSuchKey", "does not exist", "one/nope.csv")),
        ("s3://no-such-bucket-here/x.csv", ("NoSuchBucket", "no-such-bucket-here")),
        (f"s3://{BUCKET}/empty/", ("no objects under this prefix",)),
    ]:
        where = tmp_path / str(abs(hash(location)))
        where.mkdir()
        assert_fails(run(capsys, where, synth_csv, location, s3_env.endpoint), 1, *words)


def test_unreachable_endpoint(capsys, tmp_path, synth_csv, s3_env, objects):
    with socket.socket() as s:  # a port that was free a moment ago: connections are refused
        s.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{s.getsockname()[1]}"
    result = run(capsys, tmp_path, synth_csv, f"s3://{BUCKET}/one/customers.csv", endpoint)
    assert_fails(result, 1, "cannot reach the S3 endpoint", endpoint)


def test_an_object_that_is_not_parquet(capsys, tmp_path, synth_csv, s3_env, objects):
    """A stored object that was cut short is bad data, not a bad connection: exit 2, like an
    unparsable CSV, so the Job is not retried."""
    uri = f"s3://{BUCKET}/broken/customers.parquet"
    code, s, err, _ = run(capsys, tmp_path, synth_csv, uri, s3_env.endpoint)
    assert code == 2, err
    assert "not a valid Parquet file" in s["message"]
    assert s["failedChecks"][0]["name"] == "file.parquet"


class CuttingProxy:
    """A TCP proxy to the S3 server that passes each response's headers and only the first half
    of its body, then closes: a transfer broken off mid-way, as a dropped connection does."""

    def __init__(self, upstream: str):
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.server = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(client,), daemon=True).start()

    @staticmethod
    def _read_until(sock: socket.socket, buf: bytes, marker: bytes) -> bytes:
        while marker not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
        return buf

    def _one(self, client: socket.socket) -> None:
        with client, socket.create_connection(self.upstream) as up:
            request = self._read_until(client, b"", b"\r\n\r\n")
            up.sendall(request)
            response = self._read_until(up, b"", b"\r\n\r\n")
            head, _, body = response.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.lower().split(b"\r\n")
                if line.startswith(b"content-length:")
            )
            while len(body) < length // 2:
                body += up.recv(65536)
            client.sendall(head + b"\r\n\r\n" + body[: length // 2])

    def close(self) -> None:
        self.server.close()


def test_a_transfer_cut_short(capsys, tmp_path, synth_csv, s3_env, objects):
    proxy = CuttingProxy(s3_env.endpoint)
    try:
        uri = f"s3://{BUCKET}/one/customers.csv"
        result = run(capsys, tmp_path, synth_csv, uri, proxy.endpoint)
    finally:
        proxy.close()
    assert_fails(result, 1, uri)
    assert "broke off" in result[1]["message"] or "cut short" in result[1]["message"]


def test_a_local_parquet_file(capsys, tmp_path, synth_csv):
    """Parquet is not only for S3: a file path ending in .parquet is read as Parquet."""
    data = tmp_path / "customers.parquet"
    pd.read_csv(synth_csv).to_parquet(data, index=False)
    spec = small_spec(data)
    del spec["dataset"]["format"]  # the example names csv
    path = write_spec(tmp_path, spec)
    code, s, err = run_cli(capsys, "validate", "--spec", str(path))
    assert code == 0, err
    assert s["rows"] == 3000
