"""Data validation over every row: a pandera schema built from the spec, plus target, class
balance and leakage checks. Each check becomes one validation.json entry with its observed value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from .data import Table, check, describe_values
from .errors import DataValidationError
from .spec import Expectations, Feature, Spec, Target

MAX_EXAMPLES = 5


def _pandera_schema(spec: Spec) -> tuple[pa.DataFrameSchema, dict[tuple[str, int], str]]:
    """The row-level schema; also maps (column, check_number) to our check name."""
    columns: dict[str, pa.Column] = {}
    names: dict[tuple[str, int], str] = {}
    for f in spec.schema.features:
        checks: list[pa.Check] = []
        if f.min is not None or f.max is not None:
            lo = -np.inf if f.min is None else f.min
            hi = np.inf if f.max is None else f.max
            names[(f.name, len(checks))] = "range"
            checks.append(pa.Check.in_range(lo, hi))
        allowed = f.values if f.type == "categorical" else f.order
        if allowed is not None:
            names[(f.name, len(checks))] = "values"
            checks.append(pa.Check.isin(allowed))
        columns[f.name] = pa.Column(None, nullable=True, checks=checks)
    return pa.DataFrameSchema(columns), names


def _failures(spec: Spec, frame: pd.DataFrame) -> dict[tuple[str, str], pd.Series]:
    """Runs pandera lazily over every row; returns failing values keyed by (column, check)."""
    schema, names = _pandera_schema(spec)
    out: dict[tuple[str, str], pd.Series] = {}
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as e:
        fc = e.failure_cases
        for (col, num), group in fc.groupby(["column", "check_number"], dropna=False):
            name = names.get((col, int(num))) if pd.notna(num) else None
            if name is None:
                continue
            out[(col, name)] = group["failure_case"]
    return out


def _num(v: Any) -> Any:
    """JSON-friendly scalar."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def rank_auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC of `score` for 0/1 labels `y`, ties counted half (Mann-Whitney, one sort)."""
    levels, inverse = np.unique(score, return_inverse=True)
    pos = np.bincount(inverse, weights=y, minlength=len(levels))
    neg = np.bincount(inverse, minlength=len(levels)) - pos
    neg_below = np.cumsum(neg) - neg
    n_pos, n_neg = pos.sum(), neg.sum()
    return float((pos * neg_below + 0.5 * pos * neg).sum() / (n_pos * n_neg))


def univariate_auc(values: pd.Series, y: np.ndarray, f: Feature) -> float | None:
    """Direction-free ROC-AUC of one raw feature against the target (the leakage guard).

    Numeric features rank by value (missing as its own lowest value); string features by their
    level's positive rate, missing being a level of its own.
    """
    mask = ~np.isnan(y)
    yy = y[mask]
    if len(np.unique(yy)) < 2:
        return None
    v = values[mask]
    if f.is_string:
        codes, _ = pd.factorize(v, use_na_sentinel=False)
        rate = np.bincount(codes, weights=yy) / np.bincount(codes)
        score = rate[codes]
    else:
        score = v.to_numpy(dtype=float)
        if np.isnan(score).any():
            finite = score[~np.isnan(score)]
            low = (finite.min() - 1.0) if finite.size else 0.0
            score = np.where(np.isnan(score), low, score)
    auc = rank_auc(yy, score)
    return max(auc, 1.0 - auc)


@dataclass(frozen=True)
class _TargetCounts:
    """Rows by target value: missing, positive, negative."""

    missing: int
    positive: int
    negative: int

    @property
    def usable(self) -> bool:
        """Every row labelled and both classes present: the leakage guard can run."""
        return self.missing == 0 and self.positive > 0 and self.negative > 0


def _target_counts(y: np.ndarray, rows: int) -> _TargetCounts:
    missing = int(np.isnan(y).sum())
    pos = int(np.nansum(y))
    return _TargetCounts(missing, pos, int(rows - missing - pos))


def _rows_check(n: int, ex: Expectations) -> dict[str, Any]:
    return check(
        "rows.min", n >= ex.minRows, n, f">= {ex.minRows}", f"{n} rows (need {ex.minRows})"
    )


def _target_checks(table: Table, spec: Spec, counts: _TargetCounts) -> list[dict[str, Any]]:
    """No missing labels, both classes present, a positive rate within the expectations."""
    target = spec.schema.target
    return [
        _target_null_check(target, counts),
        _two_classes_check(target, counts, table.target_values),
        _positive_rate_check(target, counts, spec.expectations),
    ]


def _target_null_check(target: Target, counts: _TargetCounts) -> dict[str, Any]:
    n_nan_y = counts.missing
    return check(
        "target.notNull",
        n_nan_y == 0,
        n_nan_y,
        0,
        f"{n_nan_y} row(s) with a missing target {target.column!r}"
        if n_nan_y
        else "no missing targets",
        column=target.column,
    )


def _two_classes_check(
    target: Target, counts: _TargetCounts, values: list[list[Any]]
) -> dict[str, Any]:
    """Names the column's values when one class is absent (a mistyped positive, usually)."""
    pos, neg = counts.positive, counts.negative
    return check(
        "target.twoClasses",
        pos > 0 and neg > 0,
        {"positive": pos, "negative": neg},
        "both classes present",
        "both classes present"
        if pos > 0 and neg > 0
        else f"target {target.column!r} has a single class "
        f"(positive value {target.positive!r}: {pos} rows, other: {neg} rows); "
        f"the column holds {describe_values(values)}",
        column=target.column,
    )


def _positive_rate_check(target: Target, counts: _TargetCounts, ex: Expectations) -> dict[str, Any]:
    pos, neg = counts.positive, counts.negative
    rate = pos / max(pos + neg, 1)
    ok_rate = ex.minPositiveRate <= rate <= ex.maxPositiveRate
    return check(
        "target.positiveRate",
        ok_rate,
        round(rate, 6),
        [ex.minPositiveRate, ex.maxPositiveRate],
        f"positive rate {rate:.4f}"
        + ("" if ok_rate else f" outside [{ex.minPositiveRate}, {ex.maxPositiveRate}]"),
        column=target.column,
    )


def _id_checks(table: Table, spec: Spec) -> list[dict[str, Any]]:
    """Every row has an id and, when the expectations ask, no id repeats."""
    id_column = spec.schema.idColumn
    if not id_column or table.ids is None:
        return []
    ids = table.ids
    n_null = int(ids.isna().sum())
    out = [
        check(
            "id.notNull",
            n_null == 0,
            n_null,
            0,
            f"{n_null} row(s) without an id" if n_null else "every row has an id",
            column=id_column,
        )
    ]
    if spec.expectations.uniqueIds:
        dup = ids[ids.notna() & ids.duplicated(keep=False)]
        n_dup = int(dup.nunique())
        examples = dup.unique()[:MAX_EXAMPLES].tolist()
        out.append(
            check(
                "id.unique",
                n_dup == 0,
                {"duplicatedIds": n_dup, "examples": examples},
                "unique",
                f"{n_dup} duplicated id value(s) in {id_column!r}, e.g. {examples}"
                if n_dup
                else "ids are unique",
                column=id_column,
            )
        )
    return out


# What a value of each number type must be (data.py's rules), for the type error's message.
TYPE_FORMS = {
    "numeric": "decimals within float32's range, the model's input type",
    "integer": "whole numbers up to 2^53 - 1 in magnitude",
    "boolean": "yes/no, true/false, y/n, t/f or a decimal 1/0, any case",
    "categorical": "text or integers, not a float column",
    "ordinal": "text or integers, not a float column",
}


def _type_check(f: Feature, te: dict[str, Any] | None) -> dict[str, Any]:
    return check(
        "feature.type",
        te is None,
        te or {"count": 0, "examples": []},
        f.type,
        f"{te['count']} value(s) in {f.name!r} are not {f.type} ({TYPE_FORMS[f.type]}), "
        f"e.g. {te['examples']}"
        if te
        else f"all values parse as {f.type}",
        column=f.name,
    )


def _null_check(f: Feature, col: pd.Series, te: dict[str, Any] | None) -> dict[str, Any]:
    """Missing cells (not counting unparsable ones, already reported) within the limit."""
    n_null = int(col.isna().sum()) - (te["count"] if te else 0)
    frac = n_null / len(col)
    limit = f.maxNullFraction if f.maxNullFraction is not None else (1.0 if f.nullable else 0.0)
    return check(
        "feature.nullFraction",
        frac <= limit,
        round(frac, 6),
        f"<= {limit}",
        f"{n_null} missing value(s) in {f.name!r} ({frac:.2%}), allowed {limit:.2%}"
        + ("" if f.nullable else " (not nullable)"),
        column=f.name,
    )


def _range_check(f: Feature, col: pd.Series, bad: pd.Series | None) -> dict[str, Any]:
    cnt = 0 if bad is None else len(bad)
    lo, hi = _num(col.min()), _num(col.max())
    return check(
        "feature.range",
        cnt == 0,
        {"min": lo, "max": hi, "outOfRange": cnt},
        {"min": f.min, "max": f.max},
        f"{cnt} value(s) in {f.name!r} outside [{f.min}, {f.max}], observed [{lo}, {hi}]"
        if cnt
        else "all values within range",
        column=f.name,
    )


def _values_check(f: Feature, allowed: list[str], bad: pd.Series | None) -> dict[str, Any]:
    cnt = 0 if bad is None else len(bad)
    unknown = [] if bad is None else sorted(map(str, bad.unique()))[:10]
    return check(
        "feature.values",
        cnt == 0,
        {"unknownCount": cnt, "unknown": unknown},
        allowed,
        f"{cnt} value(s) in {f.name!r} not among the declared values: {unknown}"
        if cnt
        else "all values declared",
        column=f.name,
    )


def _cardinality_check(f: Feature, col: pd.Series) -> dict[str, Any]:
    """Not a failure: says how many of a categorical's learned levels will be encoded."""
    levels = int(col.nunique())
    return check(
        "feature.cardinality",
        True,
        levels,
        f"top {f.maxCategories} kept",
        f"{levels} distinct value(s); the {min(levels, f.maxCategories)} most "
        "frequent are encoded, the rest are treated as unseen",
        column=f.name,
    )


def _feature_checks(
    f: Feature, table: Table, fails: dict[tuple[str, str], pd.Series]
) -> list[dict[str, Any]]:
    """One feature's entries: type, missing cells, then range and values where declared."""
    col = table.features[f.name]
    te = table.type_errors.get(f.name)
    out = [_type_check(f, te), _null_check(f, col, te)]
    if f.min is not None or f.max is not None:
        out.append(_range_check(f, col, fails.get((f.name, "range"))))
    allowed = f.values if f.type == "categorical" else f.order
    if allowed is not None:
        out.append(_values_check(f, allowed, fails.get((f.name, "values"))))
    elif f.type == "categorical":
        out.append(_cardinality_check(f, col))
    return out


def _leakage_checks(table: Table, spec: Spec) -> list[dict[str, Any]]:
    """The leakage guard over every feature whose values all parsed."""
    limit = spec.expectations.maxUnivariateRocAuc
    out = []
    for f in spec.schema.features:
        if f.name in table.type_errors:
            continue
        auc = univariate_auc(table.features[f.name], table.y, f)
        if auc is None:
            continue
        out.append(
            check(
                "feature.leakage",
                auc <= limit,
                round(auc, 6),
                f"univariate ROC-AUC <= {limit}",
                f"feature {f.name!r} alone predicts the target with ROC-AUC {auc:.4f} "
                f"(> {limit}): likely target leakage; drop it or raise "
                "expectations.maxUnivariateRocAuc"
                if auc > limit
                else f"univariate ROC-AUC {auc:.4f}",
                column=f.name,
            )
        )
    return out


def validate(table: Table, spec: Spec, checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs every data check; raises DataValidationError (with all entries) if any failed."""
    counts = _target_counts(table.y, table.rows)
    checks.append(_rows_check(table.rows, spec.expectations))
    checks.extend(_target_checks(table, spec, counts))
    checks.extend(_id_checks(table, spec))
    fails = _failures(spec, table.features)
    for f in spec.schema.features:
        checks.extend(_feature_checks(f, table, fails))
    if counts.usable:
        checks.extend(_leakage_checks(table, spec))
    failed = [c for c in checks if not c["passed"]]
    if failed:
        raise DataValidationError("; ".join(c["message"] for c in failed[:5]), checks)
    return checks
