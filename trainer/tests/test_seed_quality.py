"""The quality bar on the real seed file (skipped where the seed file is absent)."""

from __future__ import annotations

import json

import pytest
from conftest import EXAMPLE_SPEC, SEED_CSV, run_cli

pytestmark = pytest.mark.skipif(not SEED_CSV.exists(), reason="seed file not on this machine")


def test_default_spec_meets_the_quality_bar_on_the_seed(tmp_path, capsys):
    code, summary, err = run_cli(
        capsys,
        "train",
        "--spec",
        str(EXAMPLE_SPEC),
        "--data",
        str(SEED_CSV),
        "--output",
        str(tmp_path),
    )
    assert code == 0, err
    card = json.loads((tmp_path / summary["digest"] / "model.json").read_text())
    m = card["metrics"]
    assert m["rocAuc"] >= 0.86 and m["f2"] >= 0.68
    assert card["threshold"]["chosenOn"] == "validation"
    assert card["split"]["testRows"] == 1000 and card["split"]["validationRows"] == 900
    assert card["parity"]["maxAbsDiff"] <= 1e-5
    assert len(card["features"]["encoded"]) == 16
    leak = [
        c
        for c in json.loads((tmp_path / summary["digest"] / "validation.json").read_text())[
            "checks"
        ]
        if c["name"] == "feature.leakage"
    ]
    assert {c["column"] for c in leak} >= {"Age", "NumOfProducts"}
    assert all(c["passed"] for c in leak)


def test_seed_with_complain_kept_fails_naming_complain(tmp_path, capsys):
    import yaml

    spec = yaml.safe_load(EXAMPLE_SPEC.read_text())
    spec["schema"]["drop"].remove("Complain")
    spec["schema"]["features"].append({"name": "Complain", "type": "boolean"})
    path = tmp_path / "leaky.yaml"
    path.write_text(yaml.safe_dump(spec))
    code, summary, _ = run_cli(
        capsys,
        "train",
        "--spec",
        str(path),
        "--data",
        str(SEED_CSV),
        "--output",
        str(tmp_path / "store"),
    )
    assert code == 2
    assert [(c["name"], c["column"]) for c in summary["failedChecks"]] == [
        ("feature.leakage", "Complain")
    ]
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").iterdir())
