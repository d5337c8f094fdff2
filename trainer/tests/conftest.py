"""Shared fixtures: a small synthetic data set, spec builders and one trained artifact."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from churn_trainer.cli import main
from churn_trainer.synth import write_synthetic

TRAINER = Path(__file__).resolve().parents[1]
EXAMPLE_SPEC = TRAINER / "examples" / "bank-churn.yaml"
SEED_CSV = TRAINER.parent.parent / "shared" / "data" / "seed" / "Customer-Churn-Records.csv"


def example_spec() -> dict[str, Any]:
    """The seed demo's spec as a mapping (a fresh copy each call)."""
    return copy.deepcopy(yaml.safe_load(EXAMPLE_SPEC.read_text()))


def small_spec(data: Path, **overrides: Any) -> dict[str, Any]:
    """The example spec pointed at `data`, with fast hyperparameters and lenient gates."""
    spec = example_spec()
    spec["dataset"]["location"] = str(data)
    spec["expectations"]["minRows"] = 100
    spec["model"]["hyperparameters"]["n_estimators"] = 60
    spec["gates"] = {"minRocAuc": 0.6}
    spec.update(overrides)
    return spec


def write_spec(tmp: Path, spec: dict[str, Any], name: str = "spec.yaml") -> Path:
    path = tmp / name
    path.write_text(
        yaml.safe_dump(spec, sort_keys=False) if name.endswith(".yaml") else json.dumps(spec)
    )
    return path


def run_cli(capsys, *argv: str) -> tuple[int, dict[str, Any], str]:
    """Runs the CLI in-process; returns (exit code, parsed summary line, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    lines = [ln for ln in out.splitlines() if ln.strip()]
    summary = json.loads(lines[-1]) if lines else {}
    return code, summary, err


def store_entries(store: Path) -> list[str]:
    """Everything under the artifact store (empty when no artifact or temp dir was left)."""
    return sorted(p.name for p in store.iterdir()) if store.exists() else []


@pytest.fixture(scope="session")
def synth_csv(tmp_path_factory) -> Path:
    """3,000 synthetic bank customers."""
    return write_synthetic(3000, 7, tmp_path_factory.mktemp("data") / "synth.csv")


@pytest.fixture(scope="session")
def trained(tmp_path_factory, synth_csv) -> dict[str, Any]:
    """The example spec, unchanged (gates included), on the synthetic data: the same recipe the
    runtime's test fixture uses, shared by the artifact tests."""
    tmp = tmp_path_factory.mktemp("trained")
    spec = example_spec()
    spec["dataset"]["location"] = str(synth_csv)
    spec_path = write_spec(tmp, spec)
    store = tmp / "store"
    term = tmp / "termination.log"
    code = main(
        ["train", "--spec", str(spec_path), "--output", str(store), "--termination-log", str(term)]
    )
    assert code == 0
    summary = json.loads(term.read_text())
    return {
        "store": store,
        "dir": Path(summary["artifact"]),
        "summary": summary,
        "spec": spec_path,
        "termination": term,
    }
