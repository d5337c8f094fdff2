"""The encoding plan: what each raw feature becomes in the model's feature vector, fitted on the
training rows only (imputation values, learned categories). The ONNX graph implements it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .spec import Feature, Spec

UNSEEN = "__unseen__"  # what an unseen/missing category maps to before one-hot (all zeros)


@dataclass
class Encoder:
    """How one raw feature is encoded: passthrough (numbers), onehot or ordinal (strings)."""

    feature: Feature
    kind: str
    categories: list[str] | None = None  # onehot: one column each; ordinal: index order
    impute_value: float | str | None = None  # replaces missing before encoding

    @property
    def encoded_names(self) -> list[str]:
        if self.kind == "onehot":
            return [f"{self.feature.name}={c}" for c in self.categories or []]
        return [self.feature.name]

    def card(self) -> dict[str, Any]:
        """The encoder as recorded in model.json."""
        out: dict[str, Any] = {"feature": self.feature.name, "kind": self.kind}
        if self.categories is not None:
            out["categories"] = self.categories
        out["missing"] = (
            {"impute": self.impute_value}
            if self.impute_value is not None
            else {"encodedAs": "NaN" if self.kind != "onehot" else "all zeros"}
        )
        if self.feature.is_string:
            out["unseen"] = {
                "policy": self.feature.unseen,
                "encodedAs": "all zeros" if self.kind == "onehot" else "NaN",
            }
        return out


def _impute_value(f: Feature, col: pd.Series) -> float | str | None:
    s = f.impute.strategy
    if s == "none":
        return None
    if s == "constant":
        return f.impute.value if f.is_string else float(f.impute.value)
    present = col.dropna()
    if present.empty:
        return None
    if s == "median":
        return float(np.float32(present.median()))
    if s == "mean":
        return float(np.float32(present.mean()))
    counts = present.value_counts()
    top = counts[counts == counts.max()].index
    value = sorted(top, key=str)[0]
    return str(value) if f.is_string else float(value)


def fit_encoders(train: pd.DataFrame, spec: Spec) -> list[Encoder]:
    """Fits one encoder per raw feature, in schema order, on the training rows."""
    encoders: list[Encoder] = []
    for f in spec.schema.features:
        col = train[f.name]
        if f.type == "categorical":
            if f.values is not None:
                cats = list(f.values)
            else:
                counts = col.dropna().value_counts()
                cats = sorted(map(str, counts.index[: f.maxCategories]))
            imp = _impute_value(f, col)
            if imp is not None and imp not in cats:
                imp = None  # imputing to a dropped rare level equals treating it as unseen
            encoders.append(Encoder(f, "onehot", cats, imp))
        elif f.type == "ordinal":
            encoders.append(Encoder(f, "ordinal", list(f.order or []), _impute_value(f, col)))
        else:
            encoders.append(Encoder(f, "passthrough", None, _impute_value(f, col)))
    return encoders


def encoded_names(encoders: list[Encoder]) -> list[str]:
    """The model's feature vector, in tree feature-index order."""
    return [name for e in encoders for name in e.encoded_names]


def encoded_to_raw(encoders: list[Encoder]) -> list[int]:
    """For each encoded feature, the index of its raw input."""
    return [i for i, e in enumerate(encoders) for _ in e.encoded_names]
