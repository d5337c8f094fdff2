"""Segment metrics per declared column value and the maxSegmentF2Gap gate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli, small_spec, store_entries, write_spec

from churn_trainer.errors import SpecError
from churn_trainer.segments import segment_gate, segment_metrics, worst_segment
from churn_trainer.spec import SEGMENT_MIN_POSITIVES, SEGMENT_MIN_ROWS, parse_spec


def _frame():
    # A: 200 rows, well ranked; B: 200 rows, ranked backwards; C: 20 rows (small)
    rng = np.random.default_rng(0)
    groups = ["A"] * 200 + ["B"] * 200 + ["C"] * 20
    y = np.r_[rng.random(200) < 0.3, rng.random(200) < 0.3, np.zeros(20, bool)].astype(int)
    p = np.where(y == 1, 0.8, 0.2).astype(float)
    p[200:400] = 1 - p[200:400]
    p[400:] = 0.1
    return pd.DataFrame({"G": groups, "H": [1.0, 0.0] * 210}), y, p


def test_segment_metrics_per_value():
    features, y, p = _frame()
    segs = {s["name"]: s for s in segment_metrics(features, y, p, 0.5, ["G", "H"])}
    assert sorted(segs) == ["G=A", "G=B", "G=C", "H=0", "H=1"]
    a, b, c = segs["G=A"], segs["G=B"], segs["G=C"]
    assert (a["rows"], b["rows"], c["rows"]) == (200, 200, 20)
    assert a["positiveRate"] == pytest.approx(y[:200].mean(), abs=1e-6)
    assert a["rocAuc"] == 1.0 and b["rocAuc"] == 0.0 and a["f2"] == 1.0 and b["f2"] == 0.0
    assert c["rocAuc"] is None and c["small"] and not a["small"] and not b["small"]
    assert segs["H=1"]["rows"] == 210  # boolean values read as 0/1, not 1.0


def test_small_means_too_few_rows_or_positives():
    assert SEGMENT_MIN_ROWS > 20 and SEGMENT_MIN_POSITIVES > 1
    features = pd.DataFrame({"G": ["A"] * 300})
    y = np.r_[np.ones(SEGMENT_MIN_POSITIVES - 1), np.zeros(300 - SEGMENT_MIN_POSITIVES + 1)]
    (seg,) = segment_metrics(features, y, np.full(300, 0.4), 0.5, ["G"])
    assert seg["small"] and seg["rows"] == 300


def test_missing_values_form_their_own_segment():
    features = pd.DataFrame({"G": ["A", None, "A", None]})
    segs = segment_metrics(features, np.array([0, 1, 1, 0]), np.full(4, 0.6), 0.5, ["G"])
    assert [s["name"] for s in segs] == ["G=(missing)", "G=A"]


def test_gate_names_the_worst_gated_segment_and_ignores_small_ones():
    features, y, p = _frame()
    segs = segment_metrics(features, y, p, 0.5, ["G"])
    gate = segment_gate(0.15, segs, overall_f2=0.5)
    assert not gate["passed"] and gate["segment"] == "G=B" and gate["observed"] == 0.5
    # C has F2 0 too, but is small: never the named segment
    assert worst_segment(segs, 0.5)["name"] == "G=B"
    only_small = [s for s in segs if s["small"]]
    gate = segment_gate(0.0, only_small, overall_f2=0.9)
    assert gate["passed"] and gate["segment"] is None


@pytest.mark.parametrize(
    ("patch", "words"),
    [
        ({"segments": ["Nope"]}, "not a feature"),
        ({"segments": ["Age"]}, "segments need one of"),
        ({"segments": ["Gender", "Gender"]}, "named twice"),
        ({"segments": "Gender"}, "list of feature names"),
        ({"segments": [], "gates": {"maxSegmentF2Gap": 0.1}}, "needs segments"),
        ({"segments": ["Gender"], "gates": {"maxSegmentF2Gap": 1.5}}, "maxSegmentF2Gap"),
    ],
)
def test_segment_spec_rejections(tmp_path, patch, words):
    with pytest.raises(SpecError, match=words):
        parse_spec({**small_spec(tmp_path / "x.csv"), **patch})


def test_segments_reach_metrics_card_and_summary(tmp_path, synth_csv, capsys):
    spec = small_spec(synth_csv, segments=["Geography", "Gender"], gates={"maxSegmentF2Gap": 1.0})
    code, summary, _ = run_cli(
        capsys, "train", "--spec", str(write_spec(tmp_path, spec)), "--output", str(tmp_path / "s")
    )
    assert code == 0
    d = Path(summary["artifact"])
    m = json.loads((d / "metrics.json").read_text())
    card = json.loads((d / "model.json").read_text())
    names = [s["name"] for s in m["segments"]]
    assert names == [
        "Geography=France",
        "Geography=Germany",
        "Geography=Spain",
        "Gender=Female",
        "Gender=Male",
    ]
    geo = [s for s in m["segments"] if s["column"] == "Geography"]
    assert sum(s["rows"] for s in geo) == m["rows"]
    assert sum(s["positives"] for s in geo) == m["positives"]
    assert card["segments"] == m["segments"]
    worst = min((s for s in m["segments"] if not s["small"]), key=lambda s: s["f2"])
    assert summary["worstSegment"]["name"] == worst["name"] == card["worstSegment"]["name"]
    assert summary["worstSegment"]["gap"] == pytest.approx(m["f2"] - worst["f2"], abs=1e-6)
    assert summary["gates"]["maxSegmentF2Gap"] is True


def test_segment_gate_failure_names_the_segment(tmp_path, synth_csv, capsys):
    spec = small_spec(synth_csv, segments=["Geography"], gates={"maxSegmentF2Gap": 0.0})
    store = tmp_path / "s"
    code, summary, _ = run_cli(
        capsys, "train", "--spec", str(write_spec(tmp_path, spec)), "--output", str(store)
    )
    assert code == 3 and summary["status"] == "gateFailed"
    (failed,) = summary["failedGates"]
    assert failed["name"] == "maxSegmentF2Gap" and failed["segment"].startswith("Geography=")
    assert f"(segment {failed['segment']})" in summary["message"]
    assert store_entries(store) == []
