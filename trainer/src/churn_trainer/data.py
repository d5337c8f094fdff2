"""Dataset I/O: fetch the bytes (path or URL), fingerprint them, parse the CSV into columns."""

from __future__ import annotations

import hashlib
import io
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import DatasetUnavailable, DataValidationError
from .spec import Spec, is_url

# Tokens read as missing in numeric/boolean/target columns. String columns treat only "" as
# missing, so that a category literally called "NA" survives.
NUMERIC_NA = ["", "NA", "NaN", "nan", "NULL", "null", "None", "none", "N/A", "n/a"]
BOOL_TRUE = {"1", "1.0", "true", "yes", "y", "t"}
BOOL_FALSE = {"0", "0.0", "false", "no", "n", "f"}
FETCH_TIMEOUT_SECONDS = 30


@dataclass
class RawDataset:
    """The dataset's bytes and their fingerprint."""

    content: bytes
    sha256: str
    location: str


@dataclass
class Table:
    """Parsed data: typed feature columns, the 0/1 target (NaN where missing) and the ids."""

    features: pd.DataFrame  # numeric types: float64 with NaN; string types: object, None=missing
    y: np.ndarray  # float64: 1.0 positive, 0.0 negative, NaN missing
    ids: pd.Series | None
    columns: list[str]  # header of the file
    type_errors: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return len(self.features)


def check(name: str, passed: bool, observed: Any, expected: Any, message: str, column=None):
    """One validation.json entry."""
    entry: dict[str, Any] = {"name": name}
    if column is not None:
        entry["column"] = column
    entry.update(passed=bool(passed), observed=observed, expected=expected, message=message)
    return entry


def fetch(location: str) -> RawDataset:
    """Reads the dataset bytes from a local path or an http(s) URL."""
    try:
        if is_url(location):
            req = urllib.request.Request(location, headers={"User-Agent": "churn-trainer"})
            with urllib.request.urlopen(req, timeout=FETCH_TIMEOUT_SECONDS) as resp:
                content = resp.read()
        else:
            content = Path(location).read_bytes()
    except urllib.error.HTTPError as e:
        raise DatasetUnavailable(
            f"cannot fetch dataset {location}: HTTP {e.code} {e.reason}"
        ) from e
    except urllib.error.URLError as e:
        raise DatasetUnavailable(f"cannot fetch dataset {location}: {e.reason}") from e
    except OSError as e:
        raise DatasetUnavailable(f"cannot read dataset {location}: {e.strerror or e}") from e
    return RawDataset(content, hashlib.sha256(content).hexdigest(), location)


def _fail(checks: list[dict[str, Any]], entry: dict[str, Any]) -> None:
    checks.append(entry)
    raise DataValidationError(entry["message"], checks)


def _header(content: bytes, spec: Spec, checks: list[dict[str, Any]]) -> list[str]:
    if not content.strip():
        _fail(checks, check("file.nonEmpty", False, len(content), "> 0 bytes", "dataset is empty"))
    checks.append(check("file.nonEmpty", True, len(content), "> 0 bytes", "dataset has content"))
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as e:
        line = content[: e.start].count(b"\n") + 1
        _fail(
            checks,
            check(
                "file.utf8",
                False,
                f"invalid byte 0x{content[e.start]:02x} at offset {e.start} (line {line})",
                "UTF-8",
                f"dataset is not valid UTF-8: invalid byte 0x{content[e.start]:02x} "
                f"at offset {e.start} (line {line})",
            ),
        )
    checks.append(check("file.utf8", True, "UTF-8", "UTF-8", "dataset decodes as UTF-8"))
    try:
        header = pd.read_csv(
            io.BytesIO(content), sep=spec.dataset.delimiter, nrows=0, encoding="utf-8-sig"
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as e:
        _fail(checks, check("file.csv", False, str(e), "CSV", f"dataset is not a valid CSV: {e}"))
    return [str(c) for c in header.columns]


def _to_number(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Coerces to float64; returns (values, mask of present values that did not parse)."""
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype("float64"), pd.Series(False, index=raw.index)
    if pd.api.types.is_numeric_dtype(raw):
        return raw.astype("float64"), pd.Series(False, index=raw.index)
    text = raw.astype("object").where(raw.notna(), None)
    text = text.map(lambda v: v.strip() if isinstance(v, str) else v)
    present = text.notna() & ~text.isin(NUMERIC_NA)  # whitespace-only counts as missing
    num = pd.to_numeric(text.where(present, None), errors="coerce").astype("float64")
    bad = num.isna() & present
    return num, bad


def _to_bool(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype("float64"), pd.Series(False, index=raw.index)
    s = (
        raw.astype("object")
        .where(raw.notna(), None)
        .map(lambda v: None if v is None else str(v).strip().lower())
    )
    present = s.notna() & ~s.isin([t.lower() for t in NUMERIC_NA])
    out = pd.Series(np.nan, index=raw.index, dtype="float64")
    out[s.isin(BOOL_TRUE)] = 1.0
    out[s.isin(BOOL_FALSE)] = 0.0
    bad = out.isna() & present
    return out, bad


def _target(raw: pd.Series, positive: Any) -> np.ndarray:
    s = raw.astype("object")
    present = s.notna() & (s.map(lambda v: str(v).strip() not in NUMERIC_NA, na_action="ignore"))
    present = present.fillna(False).astype(bool)
    text = s.where(present, None).map(lambda v: str(v).strip().lower(), na_action="ignore")
    pos = str(positive).strip().lower()
    is_pos = text == pos
    try:
        pos_num = float(positive)
        nums = pd.to_numeric(text.where(present, None), errors="coerce")
        is_pos = is_pos | (nums == pos_num)
    except (TypeError, ValueError):
        pass
    y = np.where(is_pos.to_numpy(dtype=bool), 1.0, 0.0)
    y[~present.to_numpy(dtype=bool)] = np.nan
    return y


def parse(raw: RawDataset, spec: Spec, checks: list[dict[str, Any]]) -> Table:
    """Parses the CSV into typed columns, appending file/column checks to `checks`.

    Raises DataValidationError (with `checks`) on problems that make further checks meaningless:
    empty file, bad encoding, unparsable CSV, missing declared columns, no data rows.
    """
    header = _header(raw.content, spec, checks)
    sc = spec.schema
    declared = [*spec.feature_names, sc.target.column] + ([sc.idColumn] if sc.idColumn else [])
    missing = [c for c in declared if c not in header]
    dupes = sorted({c for c in header if header.count(c) > 1})
    if missing:
        _fail(
            checks,
            check(
                "columns.present",
                False,
                {"missing": missing},
                declared,
                f"declared column(s) missing from the dataset: {', '.join(missing)}",
            ),
        )
    if dupes:
        _fail(
            checks,
            check("columns.unique", False, dupes, "unique header", f"duplicate columns: {dupes}"),
        )
    checks.append(check("columns.present", True, {"missing": []}, declared, "all declared present"))
    ignored = [c for c in header if c not in declared and c not in sc.drop]
    if ignored:
        checks.append(
            check(
                "columns.undeclared",
                True,
                ignored,
                "declared or dropped",
                f"column(s) neither declared nor dropped are ignored: {', '.join(ignored)}",
            )
        )

    string_cols = [f.name for f in sc.features if f.is_string] + [sc.target.column]
    if sc.idColumn:
        string_cols.append(sc.idColumn)
    na_values = {c: ([""] if c in string_cols else NUMERIC_NA) for c in declared}
    try:
        df = pd.read_csv(
            io.BytesIO(raw.content),
            sep=spec.dataset.delimiter,
            usecols=declared,
            dtype=dict.fromkeys(string_cols, "object"),
            keep_default_na=False,
            na_values=na_values,
            encoding="utf-8-sig",
            low_memory=False,
        )
    except (pd.errors.ParserError, ValueError) as e:
        _fail(checks, check("file.csv", False, str(e), "CSV", f"dataset is not a valid CSV: {e}"))

    rows = len(df)
    if rows == 0:
        _fail(
            checks,
            check("rows.nonEmpty", False, 0, "> 0", "dataset has a header but no data rows"),
        )

    feats: dict[str, pd.Series] = {}
    type_errors: dict[str, dict[str, Any]] = {}
    for f in sc.features:
        col = df[f.name]
        if f.is_string:
            values = col.astype("object").where(col.notna(), None)
            values = values.map(lambda v: v.strip() if isinstance(v, str) else v)
            values = values.where(values != "", None)
            feats[f.name] = values
            continue
        if f.type == "boolean":
            values, bad = _to_bool(col)
        else:
            values, bad = _to_number(col)
            if f.type == "integer":
                frac = values.notna() & (values != np.floor(values))
                bad = bad | frac
                values = values.where(~frac, np.nan)
        inf = np.isinf(values)
        if inf.any():
            bad = bad | inf
            values = values.where(~inf, np.nan)
        n_bad = int(bad.sum())
        if n_bad:
            examples = col[bad].astype(str).unique()[:5].tolist()
            type_errors[f.name] = {"count": n_bad, "examples": examples}
        feats[f.name] = values
    features = pd.DataFrame(feats, index=df.index)
    y = _target(df[sc.target.column], sc.target.positive)
    ids = df[sc.idColumn].astype("object") if sc.idColumn else None
    return Table(features, y, ids, header, type_errors)


def model_inputs(features: pd.DataFrame, spec: Spec) -> dict[str, np.ndarray]:
    """ONNX feeds for a typed frame: float32 [N,1] (NaN = missing) or str [N,1] ("" = missing)."""
    feeds: dict[str, np.ndarray] = {}
    for f in spec.schema.features:
        col = features[f.name]
        if f.is_string:
            arr = col.astype("object").where(col.notna(), "").to_numpy(dtype=object)
            feeds[f.name] = arr.reshape(-1, 1)
        else:
            feeds[f.name] = col.to_numpy(dtype=np.float32).reshape(-1, 1)
    return feeds
