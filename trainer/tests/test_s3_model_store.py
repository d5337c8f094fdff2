"""The S3 model store (against a real SeaweedFS): the trainer publishes an artifact under
<prefix>/<digest>/ with a final _COMPLETE manifest; fetch-artifact downloads it and refuses one
that is incomplete, altered or filed under another digest, leaving nothing behind."""

from __future__ import annotations

# ruff: noqa: F811  (pytest passes the imported fixtures back in as arguments)
import hashlib
import json
import shutil

import pytest
from conftest import run_cli, small_spec, write_spec
from s3_fixture import s3_env, s3_server  # noqa: F401  (the fixtures)

from churn_trainer.cli import main
from churn_trainer.model_store import MANIFEST, ModelStoreError, upload_artifact
from churn_trainer.spec import S3Options

BUCKET = "churn-models"


@pytest.fixture
def store_env(s3_env, monkeypatch):
    """Credentials and the endpoint in the environment, as a pod would have them."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_env.endpoint)
    monkeypatch.setenv("AWS_REGION", s3_env.region)
    s3 = s3_env.client()
    if BUCKET not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
        s3.create_bucket(Bucket=BUCKET)
    return s3_env


def keys(s3, prefix: str) -> list[str]:
    return sorted(
        o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    )


def fetch(capsys, uri, dest):
    code = main(["fetch-artifact", uri, "--dest", str(dest)])
    return code, capsys.readouterr()


def test_train_publishes_the_artifact_with_its_manifest_last(
    capsys, tmp_path, synth_csv, store_env
):
    spec = write_spec(tmp_path, small_spec(synth_csv))
    code, s, err = run_cli(capsys, "train", "--spec", str(spec), "--output", f"s3://{BUCKET}/bank/")
    assert code == 0, err
    digest = s["digest"]
    assert s["artifact"] == f"s3://{BUCKET}/bank/{digest}/"
    s3 = store_env.client()
    names = [k.rsplit("/", 1)[1] for k in keys(s3, f"bank/{digest}/")]
    assert MANIFEST in names and "model.onnx" in names
    manifest = json.loads(
        s3.get_object(Bucket=BUCKET, Key=f"bank/{digest}/{MANIFEST}")["Body"].read()
    )
    assert manifest["digest"] == s["digest"]
    assert sorted(manifest["files"]) == sorted(n for n in names if n != MANIFEST)
    for name, entry in manifest["files"].items():
        body = s3.get_object(Bucket=BUCKET, Key=f"bank/{digest}/{name}")["Body"].read()
        assert entry == {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    # the same model again writes nothing
    code, again, err = run_cli(
        capsys, "train", "--spec", str(spec), "--output", f"s3://{BUCKET}/bank/"
    )
    assert code == 0 and again["created"] is False, err


def test_train_publishes_with_the_model_store_keys_not_the_data_sets(
    capsys, tmp_path, synth_csv, store_env, monkeypatch
):
    """The operator gives the store's keys as CHURN_MODEL_STORE_*; AWS_* may hold another
    store's (a data set's) keys, here wrong ones for this server."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "someone-else")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-this-store")
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    monkeypatch.setenv("CHURN_MODEL_STORE_ENDPOINT", store_env.endpoint)
    monkeypatch.setenv("CHURN_MODEL_STORE_REGION", store_env.region)
    monkeypatch.setenv("CHURN_MODEL_STORE_ACCESS_KEY_ID", store_env.access_key_id)
    monkeypatch.setenv("CHURN_MODEL_STORE_SECRET_ACCESS_KEY", store_env.secret_access_key)
    spec = write_spec(tmp_path, small_spec(synth_csv))
    code, s, err = run_cli(capsys, "train", "--spec", str(spec), "--output", f"s3://{BUCKET}/own/")
    assert code == 0, err
    assert s["artifact"] == f"s3://{BUCKET}/own/{s['digest']}/"
    monkeypatch.delenv("CHURN_MODEL_STORE_ACCESS_KEY_ID")
    monkeypatch.delenv("CHURN_MODEL_STORE_SECRET_ACCESS_KEY")
    code, failed, err = run_cli(
        capsys, "train", "--spec", str(spec), "--output", f"s3://{BUCKET}/aws/"
    )
    assert code != 0 and "s3://" in err
    # the operator reads this status as reason ModelStoreUnavailable
    assert failed["status"] == "model-store" and f"s3://{BUCKET}/aws/" in failed["message"]


def test_fetch_downloads_exactly_the_trained_files(capsys, tmp_path, trained, store_env):
    uri, _ = upload_artifact(trained["dir"], f"s3://{BUCKET}/fetch", S3Options())
    code, out = fetch(capsys, uri, tmp_path / "models")
    assert code == 0, out.err
    local = tmp_path / "models" / trained["dir"].name
    assert out.out.strip() == str(local)
    assert sorted(p.name for p in local.iterdir()) == sorted(
        p.name for p in trained["dir"].iterdir()
    )
    for p in trained["dir"].iterdir():
        assert (local / p.name).read_bytes() == p.read_bytes()


def refused(capsys, tmp_path, uri, *words):
    dest = tmp_path / "models"
    code, out = fetch(capsys, uri, dest)
    assert code == 1, out
    for w in words:
        assert w in out.err, (w, out.err)
    assert not dest.exists() or list(dest.iterdir()) == [], "nothing may be left behind"


def test_refuses_an_artifact_without_its_manifest(capsys, tmp_path, trained, store_env):
    uri, _ = upload_artifact(trained["dir"], f"s3://{BUCKET}/partial", S3Options())
    store_env.client().delete_object(Bucket=BUCKET, Key=f"partial/{trained['dir'].name}/{MANIFEST}")
    refused(capsys, tmp_path, uri, "no _COMPLETE manifest", "incomplete")


def test_refuses_a_file_changed_after_upload(capsys, tmp_path, trained, store_env):
    uri, _ = upload_artifact(trained["dir"], f"s3://{BUCKET}/altered", S3Options())
    key = f"altered/{trained['dir'].name}/model.onnx"
    s3 = store_env.client()
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    s3.put_object(Bucket=BUCKET, Key=key, Body=body[: len(body) // 2])
    refused(capsys, tmp_path, uri, "model.onnx", "changed or truncated")


def test_refuses_an_artifact_filed_under_another_digest(capsys, tmp_path, trained, store_env):
    other = "0" * 64
    copy = tmp_path / "src" / other
    shutil.copytree(trained["dir"], copy)
    s3 = store_env.client()
    for p in copy.iterdir():
        s3.put_object(Bucket=BUCKET, Key=f"renamed/{other}/{p.name}", Body=p.read_bytes())
    manifest = s3.get_object(
        Bucket=BUCKET,
        Key=upload_artifact(trained["dir"], f"s3://{BUCKET}/renamed", S3Options())[0].split(
            f"{BUCKET}/", 1
        )[1]
        + MANIFEST,
    )["Body"].read()
    s3.put_object(Bucket=BUCKET, Key=f"renamed/{other}/{MANIFEST}", Body=manifest)
    refused(capsys, tmp_path, f"s3://{BUCKET}/renamed/{other}/", "manifest is for", other)


def test_upload_with_a_wrong_secret_writes_nothing(
    capsys, tmp_path, trained, store_env, monkeypatch
):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x" * 40)
    with pytest.raises(ModelStoreError, match="access denied"):
        upload_artifact(trained["dir"], f"s3://{BUCKET}/refused", S3Options())
    assert keys(store_env.client(), "refused/") == []
