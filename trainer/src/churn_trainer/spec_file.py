"""Reading a spec file: JSON, or YAML under the YAML 1.2 core schema.

PyYAML resolves plain scalars by YAML 1.1 rules: `Yes`, `No`, `On`, `Off` become booleans,
`2024-01-01` a date, `0755` the octal 493, `1_000` a thousand. The operator (and every Node tool
built on the `yaml` package) writes YAML 1.2, where all of those are strings or plain decimals,
so a spec read with YAML 1.1 rules can silently change a label or a category. This module reads
YAML the 1.2 way: only true/false are booleans, numbers are decimal, 0o octal or 0x hex, and no
timestamps, so a file means the same to the trainer as to the tools that wrote it.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import yaml


class Yaml12Loader(yaml.SafeLoader):
    """A SafeLoader whose implicit types are the YAML 1.2 core schema's."""


# Drop every YAML 1.1 implicit type, then register the core schema's (null is the same in both).
Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+.0123456789"))


def _construct_bool(loader: Yaml12Loader, node: yaml.Node) -> bool:
    return loader.construct_scalar(node).lower() == "true"


def _construct_int(loader: Yaml12Loader, node: yaml.Node) -> int:
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)  # "0755" is 755 in YAML 1.2, not octal


def _construct_float(loader: Yaml12Loader, node: yaml.Node) -> float:
    text = loader.construct_scalar(node).lower()
    if text.endswith(".inf"):
        return -math.inf if text.startswith("-") else math.inf
    if text == ".nan":
        return math.nan
    return float(text)


Yaml12Loader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
Yaml12Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)


# Line breaks to YAML 1.1 (and so to PyYAML's scanner) but ordinary characters to YAML 1.2:
# read raw, a value holding one would silently lose the text before it.
_AMBIGUOUS_BREAKS = {"\x85": "U+0085", "\u2028": "U+2028", "\u2029": "U+2029"}


def parse_spec_text(text: str, json_format: bool) -> Any:
    """The document in `text`: JSON when `json_format`, else YAML 1.2 core schema."""
    if json_format:
        return json.loads(text)
    for ch, name in _AMBIGUOUS_BREAKS.items():
        if ch in text:
            line = text[: text.index(ch)].count("\n") + 1
            raise yaml.YAMLError(
                f"line {line} holds a raw {name}, a line break to YAML 1.1 readers and a plain "
                f'character to YAML 1.2 ones; write it escaped in a double-quoted string ("\\u'
                f'{name[2:].lower()}") or use a JSON spec'
            )
    return yaml.load(text, Loader=Yaml12Loader)


def read_spec_document(path: str | Path) -> Any:
    """The raw document of a spec file, chosen by suffix (.json is JSON, anything else YAML).

    Raises OSError, UnicodeDecodeError, yaml.YAMLError or json.JSONDecodeError; `load_spec`
    turns them into SpecError.
    """
    p = Path(path)
    return parse_spec_text(p.read_text(encoding="utf-8"), p.suffix == ".json")
