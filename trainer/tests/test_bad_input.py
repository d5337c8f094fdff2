"""Bad input ends with the right exit code, a message naming the problem, and no artifact."""

from __future__ import annotations

import socket
import subprocess
import sys

import pandas as pd
import pytest
from conftest import run_cli, small_spec, store_entries, write_spec


@pytest.fixture(scope="module")
def frame(synth_csv) -> pd.DataFrame:
    return pd.read_csv(synth_csv)


def train(capsys, tmp_path, data, spec=None, **overrides):
    spec = spec or small_spec(data, **overrides)
    path = write_spec(tmp_path, spec)
    store = tmp_path / "store"
    code, summary, err = run_cli(capsys, "train", "--spec", str(path), "--output", str(store))
    assert store_entries(store) == [], "a failed run must leave nothing in the store"
    return code, summary, err


def write_csv(tmp_path, frame, name="data.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def assert_names(summary, *words):
    text = summary["message"] + " ".join(str(c) for c in summary.get("failedChecks", []))
    for w in words:
        assert w.lower() in text.lower(), (w, summary)


def test_empty_file(capsys, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    code, s, _ = train(capsys, tmp_path, path)
    assert code == 2 and s["status"] == "validationFailed"
    assert_names(s, "empty")


def test_header_only(capsys, tmp_path, frame):
    code, s, _ = train(capsys, tmp_path, write_csv(tmp_path, frame.head(0)))
    assert code == 2
    assert_names(s, "no data rows")


def test_missing_declared_columns(capsys, tmp_path, frame):
    data = write_csv(tmp_path, frame.drop(columns=["Age", "Card Type"]))
    code, s, _ = train(capsys, tmp_path, data)
    assert code == 2
    assert_names(s, "missing", "Age", "Card Type")
    assert s["failedChecks"][0]["name"] == "columns.present"


def test_wrong_types(capsys, tmp_path, frame):
    bad = frame.astype({"Age": object, "Balance": object})
    bad.loc[3, "Age"] = "forty"
    bad.loc[5, "Balance"] = "lots"
    code, s, _ = train(capsys, tmp_path, write_csv(tmp_path, bad))
    assert code == 2
    failed = {(c["name"], c.get("column")) for c in s["failedChecks"]}
    assert ("feature.type", "Age") in failed and ("feature.type", "Balance") in failed
    assert_names(s, "forty")


def test_a_number_past_float32_names_the_column(capsys, tmp_path, frame):
    # finite as float64, infinite as the model's float32 input: xgboost used to stop the run
    # with "Input data contains `inf`" and a stack trace
    bad = frame.astype({"Balance": object})
    bad.loc[7, "Balance"] = "1e308"
    code, s, _ = train(capsys, tmp_path, write_csv(tmp_path, bad))
    assert code == 2
    failed = [c for c in s["failedChecks"] if c["name"] == "feature.type"]
    assert [c["column"] for c in failed] == ["Balance"], s
    assert "1e308" in failed[0]["message"] and "float32" in failed[0]["message"]


def test_a_float_parquet_column_of_categories_names_the_column(capsys, tmp_path, frame):
    # str(3.0) is "3.0" here and "3" wherever the categories are written again (the runtime
    # reads an integer column's values as text): floats are no category's spelling
    bad = frame.assign(
        Geography=frame["Geography"].map({"France": 1.0, "Spain": 2.0, "Germany": 3.0})
    )
    path = tmp_path / "data.parquet"
    bad.to_parquet(path, index=False)
    spec = small_spec(path)
    spec["dataset"]["format"] = "parquet"
    for f in spec["schema"]["features"]:
        if f["name"] == "Geography":
            f.pop("values", None)
    code, s, _ = train(capsys, tmp_path, path, spec=spec)
    assert code == 2, s
    failed = [c for c in s["failedChecks"] if c["name"] == "feature.type"]
    assert [c["column"] for c in failed] == ["Geography"], s
    assert "float" in failed[0]["message"] and "text or integers" in failed[0]["message"]


def test_non_utf8_bytes(capsys, tmp_path, synth_csv):
    raw = synth_csv.read_bytes().replace(b"France", b"Fr\xe9nce", 1)
    path = tmp_path / "latin1.csv"
    path.write_bytes(raw)
    code, s, _ = train(capsys, tmp_path, path)
    assert code == 2
    line = raw[: raw.index(b"\xe9")].count(b"\n") + 1
    assert_names(s, "UTF-8", "0xe9", f"line {line}")


def test_single_class(capsys, tmp_path, frame):
    code, s, _ = train(capsys, tmp_path, write_csv(tmp_path, frame.assign(Exited=0)))
    assert code == 2
    assert_names(s, "single class", "Exited")


def test_nan_targets(capsys, tmp_path, frame):
    bad = frame.astype({"Exited": float})
    bad.loc[[1, 4, 9], "Exited"] = float("nan")
    code, s, _ = train(capsys, tmp_path, write_csv(tmp_path, bad))
    assert code == 2
    assert_names(s, "3 row(s) with a missing target", "Exited")


def test_duplicate_ids(capsys, tmp_path, frame):
    bad = frame.copy()
    bad.loc[10, "CustomerId"] = bad.loc[11, "CustomerId"]
    code, s, _ = train(capsys, tmp_path, write_csv(tmp_path, bad))
    assert code == 2
    assert_names(s, "duplicated id", "CustomerId", str(bad.loc[11, "CustomerId"]))


def test_out_of_range_and_undeclared_category(capsys, tmp_path, frame):
    bad = frame.copy()
    bad.loc[0, "CreditScore"] = 10
    bad.loc[1, "Geography"] = "Italy"
    code, s, _ = train(capsys, tmp_path, write_csv(tmp_path, bad))
    assert code == 2
    failed = {(c["name"], c.get("column")) for c in s["failedChecks"]}
    assert failed == {("feature.range", "CreditScore"), ("feature.values", "Geography")}
    assert_names(s, "Italy")


def test_unreachable_url(capsys, tmp_path):
    with socket.socket() as sock:  # a loopback port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/churn.csv"
    code, s, _ = train(capsys, tmp_path, url)
    assert code == 1 and s["status"] == "error"
    assert_names(s, "cannot fetch", url)


def test_missing_local_file(capsys, tmp_path):
    code, s, _ = train(capsys, tmp_path, tmp_path / "nope.csv")
    assert code == 1
    assert_names(s, "nope.csv")


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda s: s["schema"]["drop"].append("Age"), ["Age", "dropped"]),
        (lambda s: s["schema"]["features"][0].update(min=900, max=300), ["CreditScore", "min"]),
        (lambda s: s.update(threshold={"policy": "fixed"}), ["threshold.value"]),
        (lambda s: s.update(threshold={"policy": "maxF1", "value": 0.3}), ["threshold.value"]),
        (lambda s: s["gates"].update(minRocAuc=0.9, maxRocAuc=0.8), ["minRocAuc", "maxRocAuc"]),
        (lambda s: s["schema"].update(idColumn="Exited"), ["idColumn", "target"]),
        (
            lambda s: s["schema"]["features"][1].update(nullable=False, impute="most_frequent"),
            ["Geography", "not nullable"],
        ),
        (lambda s: s["model"]["hyperparameters"].update(scale_pos_weight=3), ["scale_pos_weight"]),
        (lambda s: s["split"].update(testFraction=1.5), ["testFraction"]),
        (lambda s: s["schema"]["features"][0].update(name="probability"), ["clash"]),
        (
            lambda s: s["schema"]["features"].append({"name": "Age", "type": "integer"}),
            ["declared twice", "Age"],
        ),
    ],
)
def test_contradictory_spec(capsys, tmp_path, synth_csv, mutate, words):
    spec = small_spec(synth_csv)
    mutate(spec)
    code, s, _ = train(capsys, tmp_path, synth_csv, spec=spec)
    assert code == 1
    assert s["message"].startswith("spec:")
    assert_names(s, *words)


def test_leaky_complain_column_fails_naming_it(capsys, tmp_path, synth_csv):
    spec = small_spec(synth_csv)
    spec["schema"]["drop"].remove("Complain")
    spec["schema"]["features"].append({"name": "Complain", "type": "boolean"})
    code, s, _ = train(capsys, tmp_path, synth_csv, spec=spec)
    assert code == 2
    (leak,) = s["failedChecks"]
    assert leak["name"] == "feature.leakage" and leak["column"] == "Complain"
    assert_names(s, "Complain", "leakage")


def test_gate_failure_exits_3_naming_the_gate(capsys, tmp_path, synth_csv):
    code, s, _ = train(capsys, tmp_path, synth_csv, gates={"minPrecision": 0.99})
    assert code == 3 and s["status"] == "gateFailed"
    assert [g["name"] for g in s["failedGates"]] == ["minPrecision"]
    assert 0 < s["metrics"]["precision"] < 0.99


def test_max_roc_auc_leak_alarm(capsys, tmp_path, synth_csv):
    code, s, _ = train(capsys, tmp_path, synth_csv, gates={"maxRocAuc": 0.6})
    assert code == 3
    assert [g["name"] for g in s["failedGates"]] == ["maxRocAuc"]


def test_cli_process_writes_termination_log_on_failure(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    term = tmp_path / "term.log"
    spec = write_spec(tmp_path, small_spec(path))
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "churn_trainer",
            "train",
            "--spec",
            str(spec),
            "--output",
            str(tmp_path / "store"),
            "--termination-log",
            str(term),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 2
    assert term.read_text().strip() == res.stdout.strip().splitlines()[-1]
    assert "empty" in res.stderr
    assert not (tmp_path / "store").exists() or store_entries(tmp_path / "store") == []
