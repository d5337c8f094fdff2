"""`validate`: train's data checks alone (the operator's init container), with the same
verdicts as `train`, a one-line summary under the termination-message limit, exit 0/2/1."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pandas as pd
import pytest
from conftest import run_cli, small_spec, store_entries, write_spec

from churn_trainer.cli import SUMMARY_MAX_BYTES


@pytest.fixture(scope="module")
def frame(synth_csv) -> pd.DataFrame:
    return pd.read_csv(synth_csv)


def validate(capsys, tmp_path, data, spec=None, *extra):
    path = write_spec(tmp_path, spec or small_spec(data))
    return run_cli(capsys, "validate", "--spec", str(path), *extra)


def test_valid_data_reports_rows_fingerprint_and_the_checks_train_ran(capsys, tmp_path, trained):
    """Same spec and data as the trained artifact: same rows, same bytes, same checks passed."""
    term = tmp_path / "termination.log"
    code, s, _ = run_cli(
        capsys, "validate", "--spec", str(trained["spec"]), "--termination-log", str(term)
    )
    assert code == 0 and s["status"] == "validated" and s["exitCode"] == 0
    card = json.loads((trained["dir"] / "model.json").read_text())
    report = json.loads((trained["dir"] / "validation.json").read_text())
    assert s["rows"] == card["data"]["rows"] == report["rows"]
    assert s["dataSha256"] == card["data"]["sha256"]
    assert s["checks"] == {"passed": len(report["checks"]), "failed": 0}
    assert s["split"] == {k: card["split"][k] for k in ("trainRows", "validationRows", "testRows")}
    raw = term.read_bytes()
    assert len(raw) < SUMMARY_MAX_BYTES and raw.count(b"\n") == 1
    assert json.loads(raw) == s


def test_a_bad_value_in_the_last_row_fails_it(capsys, tmp_path, frame):
    """Every row is checked, not a sample."""
    bad = frame.astype({"Age": object})
    bad.loc[len(bad) - 1, "Age"] = "forty"
    data = tmp_path / "data.csv"
    bad.to_csv(data, index=False)
    code, s, _ = validate(capsys, tmp_path, data)
    assert code == 2 and s["status"] == "validationFailed"
    assert [(c["name"], c["column"]) for c in s["failedChecks"]] == [("feature.type", "Age")]
    assert s["rows"] == len(bad)
    assert s["dataSha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert s["checks"]["failed"] == 1 and s["checks"]["passed"] > 20


def test_names_the_leak_exactly_as_train_does(capsys, tmp_path, synth_csv):
    spec = small_spec(synth_csv)
    spec["schema"]["drop"].remove("Complain")
    spec["schema"]["features"].append({"name": "Complain", "type": "boolean"})
    code, s, _ = validate(capsys, tmp_path, synth_csv, spec)
    assert code == 2
    assert [(c["name"], c["column"]) for c in s["failedChecks"]] == [
        ("feature.leakage", "Complain")
    ]
    store = tmp_path / "store"
    path = write_spec(tmp_path, spec, "train.yaml")
    t_code, t, _ = run_cli(capsys, "train", "--spec", str(path), "--output", str(store))
    assert t_code == code and t["failedChecks"] == s["failedChecks"] and t["checks"] == s["checks"]
    assert store_entries(store) == []


def test_an_unsplittable_data_set_fails_validation_not_training(capsys, tmp_path, frame):
    few = frame[frame["Exited"] == 0].head(150)
    few = pd.concat([few, frame[frame["Exited"] == 1].head(2)])
    data = tmp_path / "few.csv"
    few.to_csv(data, index=False)
    spec = small_spec(data)
    spec["expectations"]["minPositiveRate"] = 0.0
    code, s, _ = validate(capsys, tmp_path, data, spec)
    assert code == 2
    assert s["failedChecks"][0]["name"] == "split.feasible"


def test_many_failures_stay_under_the_limit_with_exact_counts(capsys, tmp_path, frame):
    bad = frame.astype(dict.fromkeys(frame.columns, object))
    numeric = ["CreditScore", "Age", "Tenure", "Balance", "NumOfProducts", "EstimatedSalary"]
    for col in numeric:
        bad.loc[0, col] = "x" * 400
    data = tmp_path / "data.csv"
    bad.to_csv(data, index=False)
    term = tmp_path / "termination.log"
    code, s, _ = validate(capsys, tmp_path, data, None, "--termination-log", str(term))
    assert code == 2
    assert len(term.read_bytes()) < SUMMARY_MAX_BYTES
    assert s["checks"]["failed"] == len(numeric)
    assert s["failedChecksTruncated"] is True
    assert 0 < len(s["failedChecks"]) < len(numeric)


def test_unreadable_data_is_an_error_not_a_verdict(capsys, tmp_path):
    code, s, _ = validate(capsys, tmp_path, tmp_path / "nope.csv")
    assert code == 1 and s["status"] == "error"
    assert "nope.csv" in s["message"]
    assert "checks" not in s


def test_as_a_process_it_exits_2_and_writes_the_termination_log(tmp_path, synth_csv):
    spec = small_spec(synth_csv)
    spec["expectations"]["minRows"] = 10**6
    path = write_spec(tmp_path, spec)
    term = tmp_path / "termination.log"
    argv = ["validate", "--spec", str(path), "--termination-log", str(term)]
    proc = subprocess.run(
        [sys.executable, "-m", "churn_trainer", *argv],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    s = json.loads(term.read_text())
    assert s["failedChecks"][0]["name"] == "rows.min"
    assert proc.stdout.strip().splitlines()[-1] == term.read_text().strip()
