"""Yes/No labels and categories: spec files read by YAML 1.2 rules, boolean `positive` values
(what kubectl makes of an unquoted Yes) matched as word booleans or refused with the column's
values, and the telecom-shaped synthetic data training end to end."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml
from conftest import run_cli, store_entries

from churn_trainer.errors import SpecError
from churn_trainer.spec import load_spec, parse_spec
from churn_trainer.spec_file import parse_spec_text
from churn_trainer.synth import telecom_frame, write_synthetic

TRAINER = Path(__file__).resolve().parents[1]
TELECOM_SPEC = TRAINER / "examples" / "telecom-churn.yaml"


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # YAML 1.1 booleans are plain words in YAML 1.2
        *[(w, w) for w in ["Yes", "No", "yes", "NO", "On", "off", "Y", "n", "y", "OFF"]],
        ("true", True),
        ("False", False),
        ("TRUE", True),
        # dates, times and sexagesimals are text
        ("2024-01-01", "2024-01-01"),
        ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),
        ("1:30", "1:30"),
        # numbers: decimal (no 1.1 octal), 0o octal, 0x hex; 1.1-only forms are text
        ("0755", 755),
        ("0o17", 15),
        ("0x1F", 31),
        ("-12", -12),
        ("1_000", "1_000"),
        ("0b101", "0b101"),
        ("1e3", 1000.0),
        ("+.5", 0.5),
        ("~", None),
        ("null", None),
        ("Null", None),
        ("", None),
    ],
)
def test_yaml_scalars_follow_the_1_2_core_schema(text, want):
    got = parse_spec_text(f"v: {text}\n", json_format=False)["v"]
    assert got == want and type(got) is type(want)


def test_yaml_special_floats():
    doc = parse_spec_text("a: .inf\nb: -.Inf\nc: .NaN\n", json_format=False)
    assert doc["a"] == math.inf and doc["b"] == -math.inf and math.isnan(doc["c"])


def test_a_quoted_scalar_is_always_text():
    doc = parse_spec_text("a: 'true'\nb: \"1\"\nc: '~'\n", json_format=False)
    assert doc == {"a": "true", "b": "1", "c": "~"}


def test_unquoted_yes_in_a_trainer_file_is_the_word(tmp_path):
    spec = TELECOM_SPEC.read_text().replace('positive: "Yes"', "positive: Yes")
    (tmp_path / "s.yaml").write_text(spec.replace('["Yes", "No"]', "[Yes, No]"))
    s = load_spec(tmp_path / "s.yaml", data_override="x.csv")
    assert s.schema.target.positive == "Yes"
    assert s.schema.features[1].values == ["Yes", "No"]


def _telecom_spec() -> dict:
    return yaml.load(TELECOM_SPEC.read_text(), Loader=yaml.SafeLoader)


@pytest.mark.parametrize("field", ["values", "order", "impute"])
def test_a_boolean_category_is_refused_with_the_fix(field):
    raw = _telecom_spec()
    feats = raw["schema"]["features"]
    if field == "values":
        feats[1]["values"] = [True, False]
    elif field == "order":
        feats[7]["order"] = [False, True]
    else:
        feats[6]["impute"] = {"strategy": "constant", "value": False}
    with pytest.raises(SpecError, match=r"holds the boolean (true|false).*quote"):
        parse_spec(raw)


def test_a_boolean_fill_for_a_boolean_feature_is_0_or_1():
    raw = _telecom_spec()
    raw["schema"]["features"][0].update(
        nullable=True, impute={"strategy": "constant", "value": True}
    )
    assert parse_spec(raw).schema.features[0].impute.value == 1


@pytest.fixture(scope="module")
def telecom_csv(tmp_path_factory) -> Path:
    return write_synthetic(3000, 5, tmp_path_factory.mktemp("tel") / "telecom.csv", "telecom")


def _train(capsys, tmp: Path, csv: Path, change=None) -> tuple[int, dict, str, Path]:
    raw = _telecom_spec()
    if change:
        change(raw)
    spec_path = tmp / "spec.json"
    spec_path.write_text(json.dumps(raw))
    store = tmp / "store"
    code, summary, err = run_cli(
        capsys, "train", "--spec", str(spec_path), "--data", str(csv), "--output", str(store)
    )
    return code, summary, err, store


@pytest.mark.parametrize("positive", ["Yes", True])
def test_yes_no_target_trains_quoted_or_as_kubectl_sends_it(
    capsys, tmp_path, telecom_csv, positive
):
    def change(raw):
        raw["schema"]["target"]["positive"] = positive

    code, summary, err, store = _train(capsys, tmp_path, telecom_csv, change)
    assert code == 0, (summary, err)
    card = json.loads((store / summary["digest"] / "model.json").read_text())
    want_rate = (telecom_frame(3000, 5)["Churn"] == "Yes").mean()
    checks = json.loads((store / summary["digest"] / "validation.json").read_text())["checks"]
    rate = next(c["observed"] for c in checks if c["name"] == "target.positiveRate")
    assert rate == pytest.approx(want_rate, abs=1e-6)
    assert "Partner=Yes" in card["features"]["encoded"]
    assert "MultipleLines=No phone service" in card["features"]["encoded"]


def test_positive_false_selects_the_no_words(capsys, tmp_path, telecom_csv):
    def change(raw):
        raw["schema"]["target"]["positive"] = False  # `positive: No` through kubectl
        raw["expectations"]["maxPositiveRate"] = 1

    code, summary, err, store = _train(capsys, tmp_path, telecom_csv, change)
    assert code == 0, (summary, err)
    checks = json.loads((store / summary["digest"] / "validation.json").read_text())["checks"]
    rate = next(c["observed"] for c in checks if c["name"] == "target.positiveRate")
    assert rate == pytest.approx((telecom_frame(3000, 5)["Churn"] == "No").mean(), abs=1e-6)


def test_a_boolean_positive_against_other_words_stops_naming_the_values(
    capsys, tmp_path, telecom_csv
):
    frame = telecom_frame(600, 5)
    frame["Churn"] = frame["Churn"].map({"Yes": "Churned", "No": "Stayed"})
    csv = tmp_path / "words.csv"
    frame.to_csv(csv, sep=";", index=False)

    def change(raw):
        raw["schema"]["target"]["positive"] = True

    code, summary, _err, store = _train(capsys, tmp_path, csv, change)
    assert code == 2
    failed = [c for c in summary["failedChecks"] if c["name"] == "target.positive"]
    assert failed, summary
    msg = failed[0]["message"]
    assert "'Stayed'" in msg and "'Churned'" in msg and 'positive: "Yes"' in msg
    assert store_entries(store) == []


def test_a_positive_matching_nothing_names_the_columns_values(capsys, tmp_path, telecom_csv):
    def change(raw):
        raw["schema"]["target"]["positive"] = 1

    code, summary, _err, _ = _train(capsys, tmp_path, telecom_csv, change)
    assert code == 2
    failed = [c for c in summary["failedChecks"] if c["name"] == "target.twoClasses"]
    assert failed and "the column holds 'No' (" in failed[0]["message"], summary
    assert "'Yes' (" in failed[0]["message"]
