"""A differently shaped churn data set (telecom-like) trains with no code change: string ids
and labels, Yes/No booleans, learned categories, imputed and pass-through missing values, a
semicolon-delimited file and a JSON spec."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from conftest import run_cli, write_spec
from test_artifact import feeds_for
from treeshap_reference import read_ensemble, shap_values

from churn_trainer.synth import CONTRACTS, telecom_frame

SPEC = {
    "name": "telecom-churn",
    "dataset": {"location": "telecom.csv", "delimiter": ";"},
    "schema": {
        "idColumn": "customerID",
        "target": {"column": "Churn", "positive": "Yes"},
        "drop": ["Notes"],
        "features": [
            {"name": "SeniorCitizen", "type": "boolean"},
            {"name": "Partner", "type": "boolean"},
            {"name": "tenure", "type": "integer", "min": 0, "max": 72},
            {
                "name": "InternetService",
                "type": "categorical",
                "nullable": True,
                "impute": {"strategy": "most_frequent"},
                "maxNullFraction": 0.2,
            },
            {"name": "Contract", "type": "ordinal", "order": CONTRACTS},
            {"name": "PaymentMethod", "type": "categorical"},
            {
                "name": "MonthlyCharges",
                "type": "numeric",
                "nullable": True,
                "impute": "median",
                "min": 0,
            },
            {"name": "TotalCharges", "type": "numeric", "nullable": True},
        ],
    },
    "expectations": {"minRows": 500},
    "split": {"testFraction": 0.2, "seed": 3},
    "model": {"scalePosWeight": 2.0, "hyperparameters": {"n_estimators": 80, "max_depth": 4}},
    "threshold": {"policy": "maxF1"},
    "gates": {"minRocAuc": 0.7},
}


@pytest.fixture(scope="module")
def telecom(tmp_path_factory, capsys_module=None):
    tmp = tmp_path_factory.mktemp("telecom")
    telecom_frame(2500, 11).to_csv(tmp / "telecom.csv", sep=";", index=False)
    spec_path = write_spec(tmp, SPEC, name="spec.json")
    return tmp, spec_path


def test_telecom_schema_trains_without_code_change(telecom, capsys):
    tmp, spec_path = telecom
    code, summary, err = run_cli(
        capsys, "train", "--spec", str(spec_path), "--output", str(tmp / "store")
    )
    assert code == 0, (summary, err)
    d = tmp / "store" / summary["digest"]
    card = json.loads((d / "model.json").read_text())
    assert card["features"]["raw"] == [f["name"] for f in SPEC["schema"]["features"]]
    assert "PaymentMethod=Electronic check" in card["features"]["encoded"]
    assert card["threshold"]["policy"] == "maxF1"
    assert card["hyperparameters"]["scale_pos_weight"] == 2.0
    imputes = {f["name"]: f.get("impute") for f in card["schema"]["features"]}
    assert imputes["InternetService"]["value"] in ("DSL", "Fiber optic", "No")
    assert isinstance(imputes["MonthlyCharges"]["value"], float)
    checks = json.loads((d / "validation.json").read_text())["checks"]
    nulls = {c["column"]: c["observed"] for c in checks if c["name"] == "feature.nullFraction"}
    assert 0 < nulls["MonthlyCharges"] < 0.1 and 0 < nulls["TotalCharges"] < 0.1

    ref = json.loads((d / "reference.json").read_text())
    rows = ref["rows"]
    assert any(r["TotalCharges"] is None for r in rows)  # pass-through missing (NaN to trees)
    assert any(r["MonthlyCharges"] is None for r in rows)  # imputed missing
    assert any(r["InternetService"] is None for r in rows)
    sess = ort.InferenceSession(str(d / "model.onnx"))
    prob, feats = sess.run(["probability", "features"], feeds_for(rows, card))
    assert np.max(np.abs(prob[:, 0] - np.array(ref["probabilities"]))) <= 1e-5
    # missing TotalCharges reaches the trees as NaN and follows xgboost's default direction
    col = card["features"]["encoded"].index("TotalCharges")
    assert np.isnan(feats[:, col]).any()
    ens = read_ensemble(onnx.load(d / "model.onnx"))
    for x, want in list(zip(feats, ref["contributions"], strict=True))[-6:]:
        assert np.allclose(shap_values(ens, x), want, atol=2e-4)
