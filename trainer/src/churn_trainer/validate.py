"""Data validation over every row: a pandera schema built from the spec, plus target, class
balance and leakage checks. Each check becomes one validation.json entry with its observed value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from .data import Table, check, describe_values
from .errors import DataValidationError
from .spec import Feature, Spec

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


def validate(table: Table, spec: Spec, checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs every data check; raises DataValidationError (with all entries) if any failed."""
    ex = spec.expectations
    sc = spec.schema
    n = table.rows
    y = table.y

    checks.append(
        check("rows.min", n >= ex.minRows, n, f">= {ex.minRows}", f"{n} rows (need {ex.minRows})")
    )
    n_nan_y = int(np.isnan(y).sum())
    checks.append(
        check(
            "target.notNull",
            n_nan_y == 0,
            n_nan_y,
            0,
            f"{n_nan_y} row(s) with a missing target {sc.target.column!r}"
            if n_nan_y
            else "no missing targets",
            column=sc.target.column,
        )
    )
    pos = int(np.nansum(y))
    neg = int(n - n_nan_y - pos)
    checks.append(
        check(
            "target.twoClasses",
            pos > 0 and neg > 0,
            {"positive": pos, "negative": neg},
            "both classes present",
            "both classes present"
            if pos > 0 and neg > 0
            else f"target {sc.target.column!r} has a single class "
            f"(positive value {sc.target.positive!r}: {pos} rows, other: {neg} rows); "
            f"the column holds {describe_values(table.target_values)}",
            column=sc.target.column,
        )
    )
    rate = pos / max(pos + neg, 1)
    ok_rate = ex.minPositiveRate <= rate <= ex.maxPositiveRate
    checks.append(
        check(
            "target.positiveRate",
            ok_rate,
            round(rate, 6),
            [ex.minPositiveRate, ex.maxPositiveRate],
            f"positive rate {rate:.4f}"
            + ("" if ok_rate else f" outside [{ex.minPositiveRate}, {ex.maxPositiveRate}]"),
            column=sc.target.column,
        )
    )

    if sc.idColumn and table.ids is not None:
        ids = table.ids
        n_null = int(ids.isna().sum())
        checks.append(
            check(
                "id.notNull",
                n_null == 0,
                n_null,
                0,
                f"{n_null} row(s) without an id" if n_null else "every row has an id",
                column=sc.idColumn,
            )
        )
        if ex.uniqueIds:
            dup = ids[ids.notna() & ids.duplicated(keep=False)]
            n_dup = int(dup.nunique())
            examples = dup.unique()[:MAX_EXAMPLES].tolist()
            checks.append(
                check(
                    "id.unique",
                    n_dup == 0,
                    {"duplicatedIds": n_dup, "examples": examples},
                    "unique",
                    f"{n_dup} duplicated id value(s) in {sc.idColumn!r}, e.g. {examples}"
                    if n_dup
                    else "ids are unique",
                    column=sc.idColumn,
                )
            )

    fails = _failures(spec, table.features)
    leak_candidates = []
    for f in sc.features:
        col = table.features[f.name]
        te = table.type_errors.get(f.name)
        checks.append(
            check(
                "feature.type",
                te is None,
                te or {"count": 0, "examples": []},
                f.type,
                f"{te['count']} value(s) in {f.name!r} are not {f.type}, e.g. {te['examples']}"
                if te
                else f"all values parse as {f.type}",
                column=f.name,
            )
        )
        n_null = int(col.isna().sum()) - (te["count"] if te else 0)
        frac = n_null / n
        limit = f.maxNullFraction if f.maxNullFraction is not None else (1.0 if f.nullable else 0.0)
        checks.append(
            check(
                "feature.nullFraction",
                frac <= limit,
                round(frac, 6),
                f"<= {limit}",
                f"{n_null} missing value(s) in {f.name!r} ({frac:.2%}), allowed {limit:.2%}"
                + ("" if f.nullable else " (not nullable)"),
                column=f.name,
            )
        )
        if f.min is not None or f.max is not None:
            bad = fails.get((f.name, "range"))
            cnt = 0 if bad is None else len(bad)
            checks.append(
                check(
                    "feature.range",
                    cnt == 0,
                    {"min": _num(col.min()), "max": _num(col.max()), "outOfRange": cnt},
                    {"min": f.min, "max": f.max},
                    f"{cnt} value(s) in {f.name!r} outside [{f.min}, {f.max}], "
                    f"observed [{_num(col.min())}, {_num(col.max())}]"
                    if cnt
                    else "all values within range",
                    column=f.name,
                )
            )
        allowed = f.values if f.type == "categorical" else f.order
        if allowed is not None:
            bad = fails.get((f.name, "values"))
            cnt = 0 if bad is None else len(bad)
            unknown = [] if bad is None else sorted(map(str, bad.unique()))[:10]
            checks.append(
                check(
                    "feature.values",
                    cnt == 0,
                    {"unknownCount": cnt, "unknown": unknown},
                    allowed,
                    f"{cnt} value(s) in {f.name!r} not among the declared values: {unknown}"
                    if cnt
                    else "all values declared",
                    column=f.name,
                )
            )
        elif f.type == "categorical":
            levels = int(col.nunique())
            checks.append(
                check(
                    "feature.cardinality",
                    True,
                    levels,
                    f"top {f.maxCategories} kept",
                    f"{levels} distinct value(s); the {min(levels, f.maxCategories)} most "
                    "frequent are encoded, the rest are treated as unseen",
                    column=f.name,
                )
            )
        if te is None:
            leak_candidates.append(f)

    ok_target = n_nan_y == 0 and pos > 0 and neg > 0
    if ok_target:
        for f in leak_candidates:
            auc = univariate_auc(table.features[f.name], y, f)
            if auc is None:
                continue
            limit = ex.maxUnivariateRocAuc
            checks.append(
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

    failed = [c for c in checks if not c["passed"]]
    if failed:
        raise DataValidationError("; ".join(c["message"] for c in failed[:5]), checks)
    return checks
