"""How one CSV cell is read per feature type: the grammar the runtime's CSV reader
(runtime/src/data/csv-record.ts, checked against this one by csv-record.test.ts) follows too,
so a file scores as it trained. Cells are read through pandas as a training file is."""

from __future__ import annotations

import csv
import io
import math

import pytest

from churn_trainer.data import RawDataset, parse
from churn_trainer.spec import parse_spec

MISSING = object()
BAD = object()


def _parse(cells: list[str], kind: str):
    out = io.StringIO()
    w = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    w.writerow(["x", "y"])
    w.writerows([c, "1" if i % 2 else "0"] for i, c in enumerate(cells))
    spec = parse_spec(
        {
            "name": "cells",
            "dataset": {"location": "x.csv"},
            "schema": {
                "target": {"column": "y", "positive": 1},
                "features": [{"name": "x", "type": kind, "nullable": True}],
            },
        }
    )
    return parse(RawDataset(out.getvalue().encode(), "", "x.csv"), spec, [])


def _errors(table) -> int:
    return table.type_errors.get("x", {}).get("count", 0)


def read(cells: list[str], kind: str) -> object:
    """The first cell of a `kind` column of `cells` as the trainer reads it: its value, MISSING
    or BAD (a type error, counted beyond the other cells' own)."""
    table = _parse(cells, kind)
    if _errors(table) > (_errors(_parse(cells[1:], kind)) if cells[1:] else 0):
        return BAD
    v = table.features["x"].iloc[0]
    return MISSING if v is None or (isinstance(v, float) and math.isnan(v)) else v


def assert_reads(cell: str, kind: str, want: object, *companions: list[str]) -> None:
    """`cell` reads as `want` alone in its column and beside each list of other cells."""
    for cells in ([cell], *([cell, *c] for c in companions)):
        got = read(cells, kind)
        assert got is want if want in (MISSING, BAD) else got == want, cells


@pytest.mark.parametrize(
    ("cell", "want"),
    [
        (" ", MISSING),  # IBM Telco's TotalCharges for new customers
        ("NA", MISSING),
        (" n/a ", MISSING),
        ("12", 12.0),
        (" 12\u00a0", 12.0),
        ("-0", 0.0),
        ("+.5", 0.5),
        ("5.", 5.0),
        ("1e309", BAD),  # past float64: infinite
        ("1e308", BAD),  # past float32, the model's input type
        ("-3.5e38", BAD),
        ("3.4028235e38", 3.4028235e38),  # rounds to float32's largest
        ("inf", BAD),
        ("Infinity", BAD),
        ("NAN", BAD),  # not a missing token, not a number
        ("1_000", BAD),  # Python's float() would say 1000
        ("0x1F", BAD),  # JavaScript's Number() would say 31
        ("1,5", BAD),  # a decimal comma
        ("\ufeff12", BAD),  # a BOM inside a cell is not whitespace
        ("True", BAD),  # pandas alone would read a column of True/False as 1/0
    ],
)
def test_a_numeric_cell(cell, want):
    # alone (pandas may then parse the column as numbers itself) and beside words
    assert_reads(cell, "numeric", want, ["0"], ["x"])


@pytest.mark.parametrize(
    ("cell", "want"),
    [
        ("9007199254740991", 9007199254740991.0),
        ("9007199254740993", BAD),  # past 2^53: not exact as a float, the runtime refuses it
        ("-9007199254740993", BAD),
        ("1e3", 1000.0),
        ("2.5", BAD),
    ],
)
def test_an_integer_cell(cell, want):
    assert_reads(cell, "integer", want, ["x"])


@pytest.mark.parametrize(
    ("cell", "want"),
    [
        *[(w, 1.0) for w in ["Yes", "yes", "TRUE", "t", "Y", "1", "1.0", "1.00", "+1", "1e0"]],
        *[(w, 0.0) for w in ["No", "no", "False", "f", "N", "0", "0.0", "-0", "0.00"]],
        (" ", MISSING),
        ("null", MISSING),
        ("2", BAD),
        ("oui", BAD),
        ("0.5", BAD),
    ],
)
def test_a_boolean_cell(cell, want):
    # alone, in a column of numbers and in a column of words: the same answer
    assert_reads(cell, "boolean", want, ["0"], ["No"])


@pytest.mark.parametrize(
    ("cell", "want"),
    [
        ("Bretagne ", "Bretagne"),
        ("\u00a0Zürich\t", "Zürich"),
        (" ", MISSING),
        ("NA", "NA"),  # a category may be called NA
        ('Mobile "Pro", 5G', 'Mobile "Pro", 5G'),
        ("\ufeffx", "\ufeffx"),
    ],
)
def test_a_category_cell(cell, want):
    assert_reads(cell, "categorical", want, ["b"])
