"""Error kinds, each carrying the process exit code the CLI reports for it."""

from __future__ import annotations

from typing import Any


class TrainerError(Exception):
    """Any failure that ends a run; exit code 1 unless a subclass says otherwise."""

    exit_code = 1
    status = "error"


class SpecError(TrainerError):
    """The spec is malformed or contradicts itself."""


class DatasetUnavailable(TrainerError):
    """The dataset could not be fetched or opened (network, permissions, missing file)."""


class DataValidationError(TrainerError):
    """The data failed validation; `checks` holds every check run so far (failed and passed),
    `dataset` what is known of the data (sha256, bytes, rows once parsed)."""

    exit_code = 2
    status = "validationFailed"

    def __init__(self, message: str, checks: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.checks = checks or []
        self.dataset: dict[str, Any] = {}


class GateFailed(TrainerError):
    """The model trained but a metric or parity gate failed; nothing is written."""

    exit_code = 3
    status = "gateFailed"

    def __init__(self, message: str, gates: list[dict[str, Any]], metrics: dict[str, Any]):
        super().__init__(message)
        self.gates = gates
        self.metrics = metrics
