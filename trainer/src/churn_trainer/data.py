"""Dataset I/O: fetch the bytes (path, URL or S3), fingerprint them, parse the CSV or Parquet
into columns."""

from __future__ import annotations

import hashlib
import io
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import DatasetUnavailable, DataValidationError
from .spec import Dataset, Feature, Spec, is_s3, is_url

# How a cell reads. The runtime reads CSV cells by the same rules (runtime/src/data/csv-record.ts,
# checked against this module by its test), so a file scores as it trained.
# Tokens read as missing in numeric/boolean/target columns. String columns treat only "" as
# missing, so that a category literally called "NA" survives.
NUMERIC_NA = ["", "NA", "NaN", "nan", "NULL", "null", "None", "none", "N/A", "n/a"]
# Words of a boolean cell (any case); a decimal number equal to 1 or 0 reads too.
BOOL_TRUE = {"true", "yes", "y", "t"}
BOOL_FALSE = {"false", "no", "n", "f"}
# Stripped from both ends of every cell: the whitespace Python's str.strip() and JavaScript's
# trim() agree on (no BOM, no ASCII separators), so " " (a blank) is missing on both sides.
CELL_SPACE = "".join(
    [" \t\n\v\f\r\u00a0\u1680", *map(chr, range(0x2000, 0x200B)), "\u2028\u2029\u202f\u205f\u3000"]
)
# A number cell: plain decimal notation only. Python's float() also takes "1_000", "infinity"
# and "nan" spellings, JavaScript's Number() "0x1F" and "0b101": neither side reads those.
DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# An integer feature's values must be exact as float64 (the runtime refuses larger ones).
MAX_EXACT_INTEGER = 2**53 - 1
FETCH_TIMEOUT_SECONDS = 30


@dataclass
class RawDataset:
    """The dataset's bytes and their fingerprint. Several files (an S3 prefix) are `parts`, in
    key order; `content` is then their concatenation, which the fingerprint covers."""

    content: bytes
    sha256: str
    location: str
    format: str = "csv"
    parts: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def files(self) -> list[tuple[str, bytes]]:
        """(name, bytes) of each file: the parts, or the one file."""
        return self.parts or [(self.location, self.content)]


@dataclass
class Table:
    """Parsed data: typed feature columns, the 0/1 target (NaN where missing) and the ids."""

    features: pd.DataFrame  # numeric types: float64 with NaN; string types: object, None=missing
    y: np.ndarray  # float64: 1.0 positive, 0.0 negative, NaN missing
    ids: pd.Series | None
    type_errors: dict[str, dict[str, Any]] = field(default_factory=dict)
    target_values: list[list[Any]] = field(default_factory=list)  # [text, rows], top 10

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


def fetch(location: str, dataset: Dataset | None = None) -> RawDataset:
    """Reads the dataset bytes from a local path, an http(s) URL or S3 (`dataset.s3` says how
    to reach it)."""
    dataset = dataset or Dataset(location)
    if is_s3(location):
        from .s3 import read_objects  # boto3 loads only for S3 data

        parts = read_objects(location, dataset.s3)
        content = b"".join(body for _, body in parts)
        return RawDataset(
            content,
            hashlib.sha256(content).hexdigest(),
            location,
            format_of(dataset, parts[0][0]),
            parts if len(parts) > 1 else [],
        )
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
    digest = hashlib.sha256(content).hexdigest()
    return RawDataset(content, digest, location, format_of(dataset, location))


def format_of(dataset: Dataset, name: str) -> str:
    """The format the spec names, else parquet for a name ending in .parquet, else csv."""
    return dataset.format or ("parquet" if name.lower().endswith(".parquet") else "csv")


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


def _first_line(content: bytes) -> bytes:
    return content.split(b"\n", 1)[0].rstrip(b"\r").removeprefix(b"\xef\xbb\xbf")


def _joined_csv(raw: RawDataset, checks: list[dict[str, Any]]) -> bytes:
    """The CSV text: the one file, or the files of a prefix as one table (each file's header
    must equal the first's and is dropped)."""
    if not raw.parts:
        return raw.content
    header = _first_line(raw.parts[0][1])
    pieces = [raw.parts[0][1]]
    for name, body in raw.parts[1:]:
        if _first_line(body) != header:
            _fail(
                checks,
                _mismatch(
                    name,
                    header.decode("utf-8", "replace"),
                    _first_line(body).decode("utf-8", "replace"),
                ),
            )
        rest = body.split(b"\n", 1)[1] if b"\n" in body else b""
        pieces.append(rest)
    return b"\n".join(p.rstrip(b"\r\n") for p in pieces if p.strip()) + b"\n"


def _mismatch(name: str, expected: Any, observed: Any) -> dict[str, Any]:
    return check(
        "files.sameColumns",
        False,
        observed,
        expected,
        f"{name} does not have the columns of the first file: {observed} (first file: {expected})",
    )


def _parquet_tables(raw: RawDataset, checks: list[dict[str, Any]]) -> list[pa.Table]:
    """Each Parquet file as a table; a file that does not read is a failed `file.parquet`."""
    tables = []
    for name, body in raw.files:
        if not body:
            _fail(checks, check("file.nonEmpty", False, 0, "> 0 bytes", f"{name} is empty"))
        try:
            tables.append(pq.read_table(pa.BufferReader(body)))
        except (pa.ArrowException, OSError) as e:
            _fail(
                checks,
                check(
                    "file.parquet",
                    False,
                    str(e),
                    "Parquet",
                    f"{name} is not a valid Parquet file (truncated or corrupt?): {e}",
                ),
            )
    checks.append(
        check("file.nonEmpty", True, len(raw.content), "> 0 bytes", "dataset has content")
    )
    checks.append(check("file.parquet", True, "Parquet", "Parquet", "dataset reads as Parquet"))
    first = tables[0].schema.names
    for (name, _), t in zip(raw.files[1:], tables[1:], strict=True):
        if t.schema.names != first:
            _fail(checks, _mismatch(name, first, t.schema.names))
    return tables


def _parquet_rows(
    tables: list[pa.Table], spec: Spec, declared: list[str], checks: list[dict[str, Any]]
) -> pd.DataFrame:
    """The declared columns as a frame: numbers and booleans keep their Parquet types, text
    columns become objects with None for missing (as read from a CSV)."""
    try:
        table = pa.concat_tables([t.select(declared) for t in tables], promote_options="permissive")
    except pa.ArrowException as e:
        _fail(checks, _mismatch("a file", "one type per column", str(e)))
    df = table.to_pandas()
    for c in declared:
        if not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])):
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    if len(df) == 0:
        _fail(checks, check("rows.nonEmpty", False, 0, "> 0", "dataset has no data rows"))
    return df


def per_value(raw: pd.Series, fn: Callable[[Any], Any], missing: Any = None) -> np.ndarray:
    """Applies `fn` once per distinct value (not per row); missing cells get `missing`."""
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [fn(u) for u in uniques]
    mapped[-1] = missing
    return mapped[codes]


def stripped(v: Any) -> str:
    """A cell's text without the whitespace around it."""
    return str(v).strip(CELL_SPACE)


def _clean(v: Any) -> str | None:
    """A cell as stripped text; None when it is one of the missing tokens."""
    t = stripped(v)
    return None if t in NUMERIC_NA else t


def _number(v: Any) -> float | None:
    t = _clean(v)
    if t is None:
        return np.nan
    return float(t) if DECIMAL.fullmatch(t) else None  # None: present but not a number


def _boolean(v: Any) -> float | None:
    t = _clean(v)
    if t is None:
        return np.nan
    word = t.lower()
    if word in BOOL_TRUE:
        return 1.0
    if word in BOOL_FALSE:
        return 0.0
    if DECIMAL.fullmatch(t) and float(t) in (0.0, 1.0):
        return abs(float(t))
    return None


def _coerced(raw: pd.Series, fn: Callable[[Any], float | None]) -> tuple[pd.Series, pd.Series]:
    """(float64 values, mask of present cells that did not parse) for an object column."""
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    parsed = [fn(u) for u in uniques]
    bad = np.array([v is None for v in parsed] + [False], dtype=bool)
    values = np.array([np.nan if v is None else v for v in parsed] + [np.nan], dtype="float64")
    return (
        pd.Series(values[codes], index=raw.index),
        pd.Series(bad[codes], index=raw.index),
    )


def _to_number(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Coerces to float64; returns (values, mask of present values that did not parse)."""
    if pd.api.types.is_bool_dtype(raw) or pd.api.types.is_numeric_dtype(raw):
        return raw.astype("float64"), pd.Series(False, index=raw.index)
    return _coerced(raw, _number)


def _to_bool(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype("float64"), pd.Series(False, index=raw.index)
    return _coerced(raw, _boolean)


def value_counts(raw: pd.Series, limit: int = 10) -> list[list[Any]]:
    """The column's most frequent present values as [text, rows] pairs, most frequent first."""
    texts = pd.Series(per_value(raw, lambda v: _clean(v)), index=raw.index).dropna()
    return [[str(v), int(n)] for v, n in texts.value_counts().head(limit).items()]


def describe_values(counts: list[list[Any]]) -> str:
    return ", ".join(f"{v!r} ({n})" for v, n in counts) or "none"


def _target(raw: pd.Series, positive: Any, column: str, checks: list[dict[str, Any]]) -> np.ndarray:
    """1.0 where the cell is the positive class, 0.0 otherwise, NaN if missing.

    A text or number `positive` matches cells equal to it (as text, or as a number). A boolean
    `positive` is what YAML 1.1 readers (kubectl, PyYAML) make of an unquoted Yes/No/On/Off: it
    reads the column as word booleans (yes/no, true/false, y/n, t/f, 1/0, as boolean features
    are read), true selecting the yes-words and false the no-words; any other word stops the run
    naming the column's values, since the user's spelling of the label is lost.
    """
    if isinstance(positive, bool):
        return _boolean_target(raw, positive, column, checks)
    return _matching_target(raw, positive)


def _boolean_target(
    raw: pd.Series, positive: bool, column: str, checks: list[dict[str, Any]]
) -> np.ndarray:
    values, bad = _to_bool(raw)
    if bad.any():
        counts = value_counts(raw)
        _fail(
            checks,
            check(
                "target.positive",
                False,
                {"positive": positive, "values": counts},
                "word booleans (yes/no, true/false, y/n, t/f, 1/0)",
                f"target {column!r}: positive is the boolean {str(positive).lower()}, but "
                f"the column holds {describe_values(counts)}; quote the positive value "
                'as it appears in the data (e.g. positive: "Yes"): unquoted, YAML 1.1 '
                "readers such as kubectl turn Yes/No/On/Off/True/False into booleans",
                column=column,
            ),
        )
    arr = values.to_numpy(dtype="float64")
    return arr if positive else np.where(np.isnan(arr), np.nan, 1.0 - arr)


def _matching_target(raw: pd.Series, positive: Any) -> np.ndarray:
    pos_text = str(positive).strip().lower()
    try:
        pos_num = float(positive)
    except (TypeError, ValueError):
        pos_num = None

    def label(v: Any) -> float:
        t = _clean(v)
        if t is None:
            return np.nan
        if t.lower() == pos_text:
            return 1.0
        if pos_num is not None:
            try:
                return 1.0 if float(t) == pos_num else 0.0
            except ValueError:
                pass
        return 0.0

    return per_value(raw, label, missing=np.nan).astype("float64")


def _declared(spec: Spec) -> list[str]:
    """The columns read: features, target, then the id column if any."""
    sc = spec.schema
    return [*spec.feature_names, sc.target.column] + ([sc.idColumn] if sc.idColumn else [])


def _check_header(
    header: list[str], declared: list[str], spec: Spec, checks: list[dict[str, Any]]
) -> None:
    """Every declared column present once; columns neither declared nor dropped are noted."""
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
    ignored = [c for c in header if c not in declared and c not in spec.schema.drop]
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


def _read_rows(
    content: bytes, spec: Spec, declared: list[str], checks: list[dict[str, Any]]
) -> pd.DataFrame:
    """The declared columns, text kept as text; fails on a CSV error or no data rows."""
    sc = spec.schema
    string_cols = [f.name for f in sc.features if f.is_string] + [sc.target.column]
    if sc.idColumn:
        string_cols.append(sc.idColumn)
    na_values = {c: ([""] if c in string_cols else NUMERIC_NA) for c in declared}
    try:
        # Every column as text: cells are typed by this module's rules alone (pandas would read
        # a column of True/False as booleans and round some decimals its own way).
        df = pd.read_csv(
            io.BytesIO(content),
            sep=spec.dataset.delimiter,
            usecols=declared,
            dtype=dict.fromkeys(declared, "object"),
            keep_default_na=False,
            na_values=na_values,
            encoding="utf-8-sig",
            low_memory=False,
        )
    except (pd.errors.ParserError, ValueError) as e:
        _fail(checks, check("file.csv", False, str(e), "CSV", f"dataset is not a valid CSV: {e}"))

    if len(df) == 0:
        _fail(
            checks,
            check("rows.nonEmpty", False, 0, "> 0", "dataset has a header but no data rows"),
        )
    return df


def _typed(col: pd.Series, f: Feature) -> tuple[pd.Series, dict[str, Any] | None]:
    """One feature column as its type, and its type error (count, examples) if any."""
    if f.is_string:
        if pd.api.types.is_float_dtype(col):
            # A Parquet float column: str(3.0) is "3.0" here but "3" to the runtime (and to a
            # person), so floats are refused as categories; integers and text are read as text.
            present = col.notna()
            if present.any():
                examples = col[present].astype(str).unique()[:5].tolist()
                error = {"count": int(present.sum()), "examples": examples}
                return pd.Series(None, index=col.index, dtype=object), error
        text = per_value(col, lambda v: stripped(v) or None)
        return pd.Series(text, index=col.index, dtype=object), None
    if f.type == "boolean":
        values, bad = _to_bool(col)
    else:
        values, bad = _to_number(col)
        if f.type == "integer":
            inexact = values.notna() & (
                (values != np.floor(values)) | (values.abs() > MAX_EXACT_INTEGER)
            )
            bad = bad | inexact
            values = values.where(~inexact, np.nan)
    # The model's inputs are float32: a value that is infinite there (1e308, inf) is refused,
    # as the runtime refuses it, instead of reaching xgboost as inf.
    with np.errstate(over="ignore"):
        too_big = values.notna() & ~np.isfinite(values.to_numpy(dtype=np.float32))
    if too_big.any():
        bad = bad | too_big
        values = values.where(~too_big, np.nan)
    n_bad = int(bad.sum())
    if not n_bad:
        return values, None
    return values, {"count": n_bad, "examples": col[bad].astype(str).unique()[:5].tolist()}


def parse(raw: RawDataset, spec: Spec, checks: list[dict[str, Any]]) -> Table:
    """Parses the CSV into typed columns, appending file/column checks to `checks`.

    Raises DataValidationError (with `checks`) on problems that make further checks meaningless:
    empty file, bad encoding, unparsable CSV or Parquet, files of a prefix that disagree on
    their columns, missing declared columns, no data rows.
    """
    declared = _declared(spec)
    if raw.format == "parquet":
        tables = _parquet_tables(raw, checks)
        _check_header(tables[0].schema.names, declared, spec, checks)
        df = _parquet_rows(tables, spec, declared, checks)
    else:
        content = _joined_csv(raw, checks)
        _check_header(_header(content, spec, checks), declared, spec, checks)
        df = _read_rows(content, spec, declared, checks)

    sc = spec.schema
    feats: dict[str, pd.Series] = {}
    type_errors: dict[str, dict[str, Any]] = {}
    for f in sc.features:
        feats[f.name], error = _typed(df[f.name], f)
        if error:
            type_errors[f.name] = error
    features = pd.DataFrame(feats, index=df.index)
    y = _target(df[sc.target.column], sc.target.positive, sc.target.column, checks)
    ids = df[sc.idColumn].astype("object") if sc.idColumn else None
    return Table(features, y, ids, type_errors, value_counts(df[sc.target.column]))


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
