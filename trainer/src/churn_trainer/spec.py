"""The training spec: load YAML/JSON, fill defaults, reject contradictions.

The shape mirrors the future `TrainingRun.spec` (camelCase keys). Every default lives here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError
from .spec_file import read_spec_document

FEATURE_TYPES = ("numeric", "integer", "boolean", "categorical", "ordinal")
NUMERIC_TYPES = ("numeric", "integer", "boolean")
STRING_TYPES = ("categorical", "ordinal")
IMPUTE_STRATEGIES = ("none", "median", "mean", "most_frequent", "constant")
THRESHOLD_POLICIES = ("fixed", "maxF1", "maxF2")
SPEC_KEYS = {
    "name",
    "dataset",
    "schema",
    "expectations",
    "split",
    "model",
    "threshold",
    "calibration",
    "segments",
    "gates",
}
CALIBRATION_METHODS = ("none", "sigmoid", "isotonic")
# Columns a segment report can group by: a handful of declared values each.
SEGMENT_TYPES = ("categorical", "ordinal", "boolean")
# A segment of the test set with fewer rows or positives is reported and flagged "small", never
# gated: its F2 would swing with a handful of customers.
SEGMENT_MIN_ROWS = 50
SEGMENT_MIN_POSITIVES = 10
# gates on the per-segment report rather than a metrics.json scalar
SEGMENT_GATES = ("maxSegmentF2Gap",)
# gate name -> (metric key in metrics.json, comparison)
GATES = {
    "minRocAuc": ("rocAuc", ">="),
    "maxRocAuc": ("rocAuc", "<="),
    "minPrAuc": ("prAuc", ">="),
    "minRecall": ("recall", ">="),
    "minPrecision": ("precision", ">="),
    "minF1": ("f1", ">="),
    "minF2": ("f2", ">="),
    "minAccuracy": ("accuracy", ">="),
}
DEFAULT_GATES = {"maxRocAuc": 0.995}
# The ONNX graph's output names (and its internal "_churn_" prefix) cannot be input columns.
RESERVED_NAMES = ("probability", "features", "label", "probabilities")
# Hyperparameters the export cannot honour: the ONNX graph is a plain sum of numeric-split trees.
FORBIDDEN_HYPERPARAMETERS = {
    "objective": "binary:logistic",
    "booster": "gbtree",
    "enable_categorical": False,
    "multi_strategy": "one_output_per_tree",
    "num_class": None,
}
DEFAULT_HYPERPARAMETERS = {
    "n_estimators": 300,
    "max_depth": 4,
    "learning_rate": 0.05,
    "tree_method": "hist",
}


@dataclass
class Impute:
    """How missing values of a nullable feature are filled; `value` is learned if not given."""

    strategy: str = "none"
    value: Any = None


@dataclass
class Feature:
    """One raw model feature as declared in the schema."""

    name: str
    type: str
    nullable: bool = False
    impute: Impute = field(default_factory=Impute)
    min: float | None = None
    max: float | None = None
    values: list[str] | None = None  # categorical: allowed values (learned from train if None)
    order: list[str] | None = None  # ordinal: categories, lowest first
    unseen: str = "ignore"  # categorical/ordinal: ignore (encode as missing/other) | error
    maxNullFraction: float | None = None
    maxCategories: int = 50

    @property
    def is_string(self) -> bool:
        return self.type in STRING_TYPES


@dataclass
class Target:
    """The label column and which of its values is the positive (churned) class."""

    column: str
    positive: Any = 1


@dataclass
class Schema:
    idColumn: str | None
    target: Target
    features: list[Feature]
    drop: list[str] = field(default_factory=list)


@dataclass
class Expectations:
    minRows: int = 100
    minPositiveRate: float = 0.01
    maxPositiveRate: float = 0.99
    maxUnivariateRocAuc: float = 0.95  # the leakage guard
    uniqueIds: bool = True


@dataclass
class Split:
    testFraction: float = 0.1
    validationFraction: float = 0.1  # carved from the non-test rows
    seed: int = 42
    stratified: bool = True


@dataclass
class Threshold:
    policy: str = "maxF2"
    value: float | None = None  # only for policy=fixed


SEARCH_METRICS = ("rocAuc", "prAuc", "logLoss", "f2")
# what the search's winner becomes: one model on every training row, the average of its
# cross-validation fold models (search.py fold_boosters, export.py bagged_trees), or the average
# of the best candidates each refitted on every training row (search.py TOP_MEMBERS)
SEARCH_REFITS = ("single", "bagFolds", "bagTop")
DEFAULT_SEARCH_TRIALS = 30  # when neither trials nor budgetSeconds is given
# the usual xgboost ranges; a spec's `space` replaces this whole mapping. No n_estimators:
# with earlyStopping the trees are found per fold (hyperparameters.n_estimators is the cap)
DEFAULT_SEARCH_SPACE: dict[str, dict[str, Any]] = {
    "max_depth": {"int": [2, 6]},
    "learning_rate": {"float": [0.01, 0.3], "log": True},
    "min_child_weight": {"float": [1.0, 20.0], "log": True},
    "subsample": {"float": [0.5, 1.0]},
    "colsample_bytree": {"float": [0.5, 1.0]},
    "reg_lambda": {"float": [0.1, 10.0], "log": True},
    "reg_alpha": {"float": [0.001, 1.0], "log": True},
}
# set by the trainer itself, never searched
UNSEARCHABLE = ("n_jobs", "random_state", "scale_pos_weight", "early_stopping_rounds")


@dataclass
class SearchSpec:
    trials: int | None = None
    budgetSeconds: float | None = None
    folds: int = 5
    metric: str = "rocAuc"
    space: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(DEFAULT_SEARCH_SPACE))
    refit: str = "single"  # single | bagFolds | bagTop


@dataclass
class CalibrationSpec:
    method: str = "none"  # none | sigmoid | isotonic, fitted on the validation fold


@dataclass
class ModelSpec:
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    scalePosWeight: float | str | None = None  # number, "auto", or None (=1)
    search: SearchSpec | None = None  # None: train the hyperparameters as given
    earlyStoppingRounds: int | None = None  # stop when the validation fold stops improving


@dataclass
class S3Options:
    """How to reach an `s3://` dataset: the endpoint (None: AWS's own) and the region. The
    credentials come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), never
    from the spec."""

    endpoint: str | None = None
    region: str | None = None
    # Explicit keys (the model store's, when the data set's own are in AWS_*); None: boto3's
    # default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a role, ...).
    access_key_id: str | None = None
    secret_access_key: str | None = None

    @classmethod
    def model_store_from_env(cls, env: Mapping[str, str]) -> S3Options:
        """The operator's S3 model store: CHURN_MODEL_STORE_{ENDPOINT,REGION,ACCESS_KEY_ID,
        SECRET_ACCESS_KEY}, names of their own so that a data set read from another store with
        other credentials (AWS_*) does not clash; unset ones fall back to boto3's defaults."""
        return cls(
            endpoint=env.get("CHURN_MODEL_STORE_ENDPOINT") or None,
            region=env.get("CHURN_MODEL_STORE_REGION") or None,
            access_key_id=env.get("CHURN_MODEL_STORE_ACCESS_KEY_ID") or None,
            secret_access_key=env.get("CHURN_MODEL_STORE_SECRET_ACCESS_KEY") or None,
        )


@dataclass
class Dataset:
    location: str
    format: str | None = None  # csv | parquet; None: parquet when the name ends in .parquet
    delimiter: str = ","
    s3: S3Options = field(default_factory=S3Options)


DATASET_FORMATS = ("csv", "parquet")


@dataclass
class Spec:
    name: str
    dataset: Dataset
    schema: Schema
    expectations: Expectations
    split: Split
    model: ModelSpec
    threshold: Threshold
    gates: dict[str, float]
    source: str | None = None  # path the spec was read from
    calibration: CalibrationSpec = field(default_factory=CalibrationSpec)
    segments: list[str] = field(default_factory=list)

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.schema.features]


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise SpecError(f"spec: {message}")


def _known_keys(obj: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(obj) - allowed)
    _require(not unknown, f"unknown key(s) {unknown} in {where}")


def _dict(obj: Any, where: str) -> dict[str, Any]:
    if obj is None:
        return {}
    _require(isinstance(obj, dict), f"{where} must be a mapping")
    return obj


def _fraction(value: Any, where: str, low_open: bool = True) -> float:
    _require(
        isinstance(value, int | float) and not isinstance(value, bool), f"{where} not a number"
    )
    ok = (0 < value < 1) if low_open else (0 <= value <= 1)
    _require(ok, f"{where} must be in {'(0, 1)' if low_open else '[0, 1]'}, got {value}")
    return float(value)


def _no_booleans(values: list[Any], where: str) -> None:
    """Categories are text: a boolean here is a word like Yes or On that a YAML 1.1 reader
    (kubectl, PyYAML) turned into true/false, and its original spelling is lost."""
    for v in values:
        _require(
            not isinstance(v, bool),
            f"{where} holds the boolean {str(v).lower()}, but categories are text; quote the "
            f'value as it appears in the data (e.g. "Yes", "On"): unquoted, YAML 1.1 readers '
            "such as kubectl turn Yes/No/On/Off/True/False into booleans",
        )


def _parse_feature(raw: dict[str, Any], i: int) -> Feature:
    where = f"schema.features[{i}]"
    raw = _dict(raw, where)
    _known_keys(raw, {f for f in Feature.__dataclass_fields__}, where)
    _require(isinstance(raw.get("name"), str) and raw["name"] != "", f"{where}.name missing")
    name = raw["name"]
    where = f"feature {name!r}"
    ftype = raw.get("type")
    _require(ftype in FEATURE_TYPES, f"{where}: type must be one of {FEATURE_TYPES}, got {ftype!r}")
    imp_raw = raw.get("impute")
    if isinstance(imp_raw, str):
        imp_raw = {"strategy": imp_raw}
    imp_raw = _dict(imp_raw, f"{where}.impute")
    _known_keys(imp_raw, {"strategy", "value"}, f"{where}.impute")
    impute = Impute(strategy=imp_raw.get("strategy", "none"), value=imp_raw.get("value"))
    f = Feature(
        name=name,
        type=ftype,
        nullable=bool(raw.get("nullable", False)),
        impute=impute,
        min=raw.get("min"),
        max=raw.get("max"),
        values=raw.get("values"),
        order=raw.get("order"),
        unseen=raw.get("unseen", "ignore"),
        maxNullFraction=raw.get("maxNullFraction"),
        maxCategories=raw.get("maxCategories", 50),
    )
    _check_feature(f)
    return f


def _check_feature(f: Feature) -> None:
    """Rejects contradictions within one feature; normalises its categories to text."""
    where = f"feature {f.name!r}"
    _check_impute_strategy(f, where)
    _require(f.unseen in ("ignore", "error"), f"{where}: unseen must be ignore or error")
    _check_null_fraction(f, where)
    _check_bounds(f, where)
    if f.type == "categorical":
        _check_categorical(f, where)
    elif f.type == "ordinal":
        _check_ordinal(f, where)
    else:
        _require(f.values is None and f.order is None, f"{where}: values/order need a string type")
        _require(f.unseen == "ignore", f"{where}: unseen is only for categorical/ordinal features")
    if f.impute.strategy == "constant":
        _check_fill(f, where)


def _check_impute_strategy(f: Feature, where: str) -> None:
    s = f.impute.strategy
    _require(s in IMPUTE_STRATEGIES, f"{where}: impute.strategy must be one of {IMPUTE_STRATEGIES}")
    _require(
        not (s != "none" and not f.nullable),
        f"{where}: impute.strategy {s!r} given but the feature is not nullable",
    )
    _require(
        not (s in ("median", "mean") and f.type not in ("numeric", "integer")),
        f"{where}: impute {s!r} needs a numeric or integer feature, not {f.type}",
    )
    _require(
        not (s == "constant" and f.impute.value is None),
        f"{where}: impute.strategy constant needs impute.value",
    )
    _require(
        not (s != "constant" and f.impute.value is not None),
        f"{where}: impute.value is only for strategy constant",
    )


def _check_null_fraction(f: Feature, where: str) -> None:
    if f.maxNullFraction is None:
        return
    _fraction(f.maxNullFraction, f"{where}.maxNullFraction", low_open=False)
    _require(
        f.nullable or f.maxNullFraction == 0,
        f"{where}: maxNullFraction > 0 but the feature is not nullable",
    )


def _check_bounds(f: Feature, where: str) -> None:
    """min and max: numbers, only on numeric/integer features, in order."""
    for bound in ("min", "max"):
        v = getattr(f, bound)
        if v is not None:
            _require(
                f.type in ("numeric", "integer"),
                f"{where}: {bound} is only for numeric/integer features",
            )
            _require(
                isinstance(v, int | float) and math.isfinite(v), f"{where}: {bound} not a number"
            )
    if f.min is not None and f.max is not None:
        _require(f.min <= f.max, f"{where}: min {f.min} > max {f.max}")


def _levels(levels: Any, where: str, key: str, empty: str, duplicate: str) -> list[str]:
    """Declared categories as text: a non-empty list, no booleans, no repeats, no ""."""
    _require(isinstance(levels, list) and len(levels) > 0, f"{where}: {empty}")
    _no_booleans(levels, f"{where}: {key}")
    text = [str(v) for v in levels]
    _require(len(set(text)) == len(text), f"{where}: {duplicate}")
    _require("" not in text, f"{where}: the empty string means missing")
    return text


def _check_categorical(f: Feature, where: str) -> None:
    _require(f.order is None, f"{where}: order is only for ordinal features (use values)")
    if f.values is not None:
        f.values = _levels(
            f.values, where, "values", "values must be a non-empty list", "duplicate values"
        )
    _require(
        isinstance(f.maxCategories, int) and f.maxCategories >= 1,
        f"{where}: maxCategories must be a positive integer",
    )


def _check_ordinal(f: Feature, where: str) -> None:
    f.order = _levels(
        f.order,
        where,
        "order",
        "an ordinal feature needs order: [lowest, ..., highest]",
        "duplicate values in order",
    )
    _require(f.values is None, f"{where}: values is for categorical features (use order)")


def _check_fill(f: Feature, where: str) -> None:
    """impute.value of strategy constant: a declared category, or a number the feature allows."""
    v = f.impute.value
    if f.is_string:
        _no_booleans([v], f"{where}: impute.value")
    if f.type == "categorical":
        f.impute.value = str(v)
        _require(
            f.values is None or f.impute.value in f.values,
            f"{where}: impute.value {v!r} is not one of values",
        )
    elif f.type == "ordinal":
        f.impute.value = str(v)
        _require(f.impute.value in f.order, f"{where}: impute.value {v!r} is not in order")
    else:
        _check_numeric_fill(f, where)


def _check_numeric_fill(f: Feature, where: str) -> None:
    v = f.impute.value
    if f.type == "boolean" and isinstance(v, bool):
        v = f.impute.value = int(v)  # true/false fill a boolean feature as 1/0
    ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    _require(ok, f"{where}: impute.value must be a finite number")
    if f.type == "boolean":
        _require(v in (0, 1), f"{where}: boolean impute.value must be 0 or 1")
    _require(
        (f.min is None or v >= f.min) and (f.max is None or v <= f.max),
        f"{where}: impute.value {v} is outside [min, max]",
    )


def _parse_name(raw: dict[str, Any]) -> str:
    name = raw.get("name", "churn-model")
    _require(isinstance(name, str) and name != "", "name must be a non-empty string")
    return name


def _parse_dataset(obj: Any) -> Dataset:
    """`dataset`: a mapping, or just its location."""
    ds = {"location": obj} if isinstance(obj, str) else obj
    ds = _dict(ds, "dataset")
    _known_keys(ds, {"location", "format", "delimiter", "s3"}, "dataset")
    fmt = ds.get("format")
    _require(
        fmt is None or fmt in DATASET_FORMATS,
        f"dataset.format must be one of {', '.join(DATASET_FORMATS)}",
    )
    dataset = Dataset(
        location=str(ds.get("location", "")),
        format=fmt,
        delimiter=ds.get("delimiter", ","),
        s3=_parse_s3_options(ds.get("s3", {})),
    )
    _require(len(dataset.delimiter) == 1, "dataset.delimiter must be one character")
    return dataset


def _parse_s3_options(obj: Any) -> S3Options:
    """`dataset.s3`: {endpoint, region}, both optional strings."""
    s3 = _dict(obj, "dataset.s3")
    _known_keys(s3, {"endpoint", "region"}, "dataset.s3")
    for key in ("endpoint", "region"):
        _require(
            s3.get(key) is None or (isinstance(s3[key], str) and s3[key] != ""),
            f"dataset.s3.{key} must be a non-empty string",
        )
    endpoint = s3.get("endpoint")
    _require(endpoint is None or is_url(endpoint), "dataset.s3.endpoint must be an http(s) URL")
    return S3Options(endpoint=endpoint, region=s3.get("region"))


def _parse_target(obj: Any) -> Target:
    """`schema.target`: a mapping, or just the column's name."""
    tg = {"column": obj} if isinstance(obj, str) else obj
    tg = _dict(tg, "schema.target")
    _known_keys(tg, {"column", "positive"}, "schema.target")
    _require(isinstance(tg.get("column"), str), "schema.target.column missing")
    target = Target(column=tg["column"], positive=tg.get("positive", 1))
    _require(
        isinstance(target.positive, str | int | float | bool), "target.positive must be a scalar"
    )
    return target


def _parse_schema(obj: Any) -> Schema:
    sc = _dict(obj, "schema")
    _known_keys(sc, {"idColumn", "target", "features", "drop"}, "schema")
    target = _parse_target(sc.get("target"))
    feats_raw = sc.get("features")
    _require(isinstance(feats_raw, list) and feats_raw, "schema.features must be a non-empty list")
    features = [_parse_feature(f, i) for i, f in enumerate(feats_raw)]
    drop = sc.get("drop") or []
    _require(isinstance(drop, list) and all(isinstance(d, str) for d in drop), "drop: names")
    id_col = sc.get("idColumn")
    _require(id_col is None or isinstance(id_col, str), "schema.idColumn must be a string")
    schema = Schema(idColumn=id_col, target=target, features=features, drop=list(drop))
    _check_columns(schema)
    return schema


def _check_columns(schema: Schema) -> None:
    """Each column has one role: a feature, the target, the id, or dropped."""
    names = [f.name for f in schema.features]
    target, id_col, drop = schema.target, schema.idColumn, schema.drop
    dups = sorted({n for n in names if names.count(n) > 1})
    _require(not dups, f"feature(s) declared twice: {dups}")
    _require(target.column not in names, f"target {target.column!r} is also a feature")
    _require(target.column not in drop, f"target {target.column!r} is also in drop")
    _require(id_col != target.column, "idColumn and target are the same column")
    if id_col is not None:
        _require(id_col not in names, f"idColumn {id_col!r} is also a feature")
        _require(id_col not in drop, f"idColumn {id_col!r} is also in drop")
    reserved = sorted(set(names) & set(RESERVED_NAMES)) + [
        n for n in names if n.startswith("_churn_")
    ]
    _require(not reserved, f"feature name(s) {reserved} clash with the model's tensor names")
    both = sorted(set(names) & set(drop))
    _require(not both, f"column(s) both features and dropped: {both}")


def _parse_expectations(obj: Any) -> Expectations:
    ex = _dict(obj, "expectations")
    _known_keys(ex, set(Expectations.__dataclass_fields__), "expectations")
    expectations = Expectations(**ex)
    _require(
        isinstance(expectations.minRows, int) and expectations.minRows >= 1,
        "expectations.minRows must be a positive integer",
    )
    lo = _fraction(expectations.minPositiveRate, "expectations.minPositiveRate", low_open=False)
    hi = _fraction(expectations.maxPositiveRate, "expectations.maxPositiveRate", low_open=False)
    _require(lo <= hi, f"expectations.minPositiveRate {lo} > maxPositiveRate {hi}")
    leak = expectations.maxUnivariateRocAuc
    _require(
        isinstance(leak, int | float) and 0.5 < leak <= 1,
        "expectations.maxUnivariateRocAuc must be in (0.5, 1]",
    )
    return expectations


def _parse_split(obj: Any) -> Split:
    sp = _dict(obj, "split")
    _known_keys(sp, set(Split.__dataclass_fields__), "split")
    split = Split(**sp)
    _fraction(split.testFraction, "split.testFraction")
    _fraction(split.validationFraction, "split.validationFraction")
    _require(isinstance(split.seed, int), "split.seed must be an integer")
    return split


def _parse_model(obj: Any) -> ModelSpec:
    """`model`: hyperparameters over the defaults, none the export cannot honour."""
    md = _dict(obj, "model")
    _known_keys(md, {"hyperparameters", "scalePosWeight", "search", "earlyStopping"}, "model")
    hp = dict(DEFAULT_HYPERPARAMETERS)
    hp.update(_dict(md.get("hyperparameters"), "model.hyperparameters"))
    for key, allowed in FORBIDDEN_HYPERPARAMETERS.items():
        if key in hp:
            _require(
                hp[key] == allowed,
                f"model.hyperparameters.{key}={hp[key]!r} is not supported"
                + (f" (only {allowed!r})" if allowed is not None else ""),
            )
    spw = md.get("scalePosWeight")
    _require(
        not ("scale_pos_weight" in hp and spw is not None),
        "scale_pos_weight given both in model.hyperparameters and model.scalePosWeight",
    )
    if spw is not None:
        _require(
            spw == "auto"
            or (isinstance(spw, int | float) and not isinstance(spw, bool) and spw > 0),
            "model.scalePosWeight must be a positive number or 'auto'",
        )
    return ModelSpec(
        hyperparameters=hp,
        scalePosWeight=spw,
        search=_parse_search(md.get("search")),
        earlyStoppingRounds=_parse_early_stopping(md.get("earlyStopping")),
    )


def _positive_int(v: Any, where: str) -> int:
    _require(isinstance(v, int) and not isinstance(v, bool) and v >= 1, f"{where}: positive int")
    return v


def _parse_early_stopping(obj: Any) -> int | None:
    if obj is None:
        return None
    es = _dict(obj, "model.earlyStopping")
    _known_keys(es, {"rounds"}, "model.earlyStopping")
    return _positive_int(es.get("rounds"), "model.earlyStopping.rounds")


def _parse_range(name: str, d: dict[str, Any]) -> None:
    """One `space` entry: exactly one of int/float [low, high] (log only for float), choice."""
    where = f"model.search.space.{name}"
    kinds = [k for k in ("int", "float", "choice") if k in d]
    _require(len(kinds) == 1, f"{where}: give exactly one of int, float, choice")
    _known_keys(d, {kinds[0], "log"}, where)
    if kinds[0] == "choice":
        _require(isinstance(d["choice"], list) and d["choice"], f"{where}.choice: non-empty list")
        _require("log" not in d, f"{where}: log is for float ranges")
        return
    lo_hi = d[kinds[0]]
    num = int if kinds[0] == "int" else (int, float)
    _require(
        isinstance(lo_hi, list) and len(lo_hi) == 2 and all(isinstance(v, num) for v in lo_hi),
        f"{where}.{kinds[0]}: [low, high]",
    )
    _require(lo_hi[0] <= lo_hi[1], f"{where}: low > high")
    _require(not d.get("log") or kinds[0] == "float", f"{where}: log is for float ranges")
    _require(not d.get("log") or lo_hi[0] > 0, f"{where}: a log range needs low > 0")


def _parse_search(obj: Any) -> SearchSpec | None:
    """`model.search`: trials and/or budgetSeconds, folds, metric and the space."""
    if obj is None:
        return None
    sr = _dict(obj, "model.search")
    _known_keys(sr, set(SearchSpec.__dataclass_fields__), "model.search")
    search = SearchSpec(**sr)
    if search.trials is not None:
        _positive_int(search.trials, "model.search.trials")
    b = search.budgetSeconds
    if b is not None:
        _require(isinstance(b, int | float) and b > 0, "model.search.budgetSeconds must be > 0")
    elif search.trials is None:
        search.trials = DEFAULT_SEARCH_TRIALS
    _require(
        _positive_int(search.folds, "model.search.folds") >= 2, "model.search.folds must be >= 2"
    )
    _require(search.metric in SEARCH_METRICS, f"model.search.metric: one of {SEARCH_METRICS}")
    _require(search.refit in SEARCH_REFITS, f"model.search.refit: one of {SEARCH_REFITS}")
    space = _dict(search.space, "model.search.space")
    _require(space, "model.search.space must name at least one parameter")
    for name, d in space.items():
        _require(
            name not in FORBIDDEN_HYPERPARAMETERS and name not in UNSEARCHABLE,
            f"model.search.space.{name} cannot be searched",
        )
        _parse_range(name, _dict(d, f"model.search.space.{name}"))
    return search


def _parse_threshold(obj: Any) -> Threshold:
    """`threshold`: a mapping, or just the policy; a value only for policy fixed."""
    th = {"policy": obj} if isinstance(obj, str) else obj
    th = _dict(th, "threshold")
    _known_keys(th, {"policy", "value"}, "threshold")
    threshold = Threshold(policy=th.get("policy", "maxF2"), value=th.get("value"))
    _require(
        threshold.policy in THRESHOLD_POLICIES,
        f"threshold.policy must be one of {THRESHOLD_POLICIES}",
    )
    if threshold.policy == "fixed":
        _require(threshold.value is not None, "threshold.policy fixed needs threshold.value")
        _fraction(threshold.value, "threshold.value")
    else:
        _require(
            threshold.value is None,
            f"threshold.value given but policy {threshold.policy} chooses the threshold itself",
        )
    return threshold


def _parse_calibration(obj: Any) -> CalibrationSpec:
    """`calibration`: a mapping, or just the method."""
    cal = {"method": obj} if isinstance(obj, str) else obj
    cal = _dict(cal, "calibration")
    _known_keys(cal, {"method"}, "calibration")
    method = cal.get("method", "none")
    _require(
        method in CALIBRATION_METHODS,
        f"calibration.method must be one of {CALIBRATION_METHODS}, got {method!r}",
    )
    return CalibrationSpec(method=method)


def _parse_segments(obj: Any, schema: Schema) -> list[str]:
    """`segments`: distinct categorical, ordinal or boolean feature names."""
    segs = [] if obj is None else obj
    _require(
        isinstance(segs, list) and all(isinstance(s, str) for s in segs),
        "segments must be a list of feature names",
    )
    _require(len(set(segs)) == len(segs), "segments: a column is named twice")
    types = {f.name: f.type for f in schema.features}
    for name in segs:
        _require(name in types, f"segments: {name!r} is not a feature")
        _require(
            types[name] in SEGMENT_TYPES,
            f"segments: {name!r} is {types[name]}; segments need one of {SEGMENT_TYPES}",
        )
    return list(segs)


def _parse_gates(obj: Any) -> dict[str, float]:
    """`gates` over the defaults; a min gate may not exceed its max."""
    gates = dict(DEFAULT_GATES)
    gt = _dict(obj, "gates")
    _known_keys(gt, set(GATES) | set(SEGMENT_GATES), "gates")
    for k, v in gt.items():
        _fraction(v, f"gates.{k}", low_open=False)
    gates.update(gt)
    for metric in ("RocAuc",):
        lo_g, hi_g = gates.get(f"min{metric}"), gates.get(f"max{metric}")
        if lo_g is not None and hi_g is not None:
            _require(lo_g <= hi_g, f"gates.min{metric} {lo_g} > gates.max{metric} {hi_g}")
    return gates


def parse_spec(raw: dict[str, Any], source: str | None = None) -> Spec:
    """Normalises a spec mapping; raises SpecError naming the first problem found."""
    raw = _dict(raw, "spec")
    _known_keys(raw, SPEC_KEYS, "spec")
    # arguments are evaluated left to right: sections are checked, and fail, in this order
    spec = Spec(
        name=_parse_name(raw),
        dataset=_parse_dataset(raw.get("dataset")),
        schema=_parse_schema(raw.get("schema")),
        expectations=_parse_expectations(raw.get("expectations")),
        split=_parse_split(raw.get("split")),
        model=_parse_model(raw.get("model")),
        threshold=_parse_threshold(raw.get("threshold")),
        gates=_parse_gates(raw.get("gates")),
        source=source,
        calibration=_parse_calibration(raw.get("calibration")),
    )
    spec.segments = _parse_segments(raw.get("segments"), spec.schema)
    _require(
        spec.segments or "maxSegmentF2Gap" not in spec.gates,
        "gates.maxSegmentF2Gap needs segments to compare",
    )
    return spec


def load_spec(path: str | Path, data_override: str | None = None) -> Spec:
    """Reads a JSON or YAML (1.2 core schema) spec; a relative dataset path resolves against the
    spec's folder."""
    p = Path(path)
    try:
        raw = read_spec_document(p)
    except OSError as e:
        raise SpecError(f"cannot read spec {str(p)!r}: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise SpecError(f"spec {str(p)!r} is not UTF-8: {e}") from e
    except (yaml.YAMLError, json.JSONDecodeError) as e:
        raise SpecError(f"spec {str(p)!r} is not valid YAML/JSON: {e}") from e
    spec = parse_spec(raw, source=str(p))
    if data_override:
        spec.dataset.location = data_override
    elif spec.dataset.location and not is_remote(spec.dataset.location):
        loc = Path(spec.dataset.location)
        if not loc.is_absolute():
            spec.dataset.location = str((p.parent / loc).resolve())
    _require(spec.dataset.location != "", "dataset.location missing (or pass --data)")
    return spec


def is_url(location: str) -> bool:
    """True for http(s) dataset locations."""
    return location.startswith(("http://", "https://"))


def is_s3(location: str) -> bool:
    """True for `s3://bucket/key` (one object) and `s3://bucket/prefix/` (every object under it)."""
    return location.startswith("s3://")


def is_remote(location: str) -> bool:
    """True for locations that are not paths on this machine."""
    return is_url(location) or is_s3(location)
