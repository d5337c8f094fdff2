"""Command line: `train` (exit 0 ok, 2 data validation failed, 3 gate failed, 1 other error),
`validate` (the data checks of `train` alone: exit 0 valid, 2 invalid, 1 other error) and
`synth` (a bank-churn-like CSV)."""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import DataValidationError, GateFailed, TrainerError

SUMMARY_MAX_BYTES = 4096


def summary_line(summary: dict[str, Any]) -> str:
    """One-line JSON under SUMMARY_MAX_BYTES, dropping detail (never the status) to fit."""
    s = dict(summary)

    def enc() -> str:
        return json.dumps(s, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

    line = enc()
    for key in ("failedChecks", "failedGates"):
        while len(line.encode()) > SUMMARY_MAX_BYTES and s.get(key):
            s[key] = s[key][:-1]
            s[f"{key}Truncated"] = True
            line = enc()
    if len(line.encode()) > SUMMARY_MAX_BYTES and "message" in s:
        s["message"] = s["message"][:500] + "..."
        line = enc()
    if len(line.encode()) > SUMMARY_MAX_BYTES:
        s = {k: s[k] for k in ("status", "exitCode", "message") if k in s}
        s["message"] = s.get("message", "")[:1000]
        line = enc()
    return line


def failure_summary(err: Exception) -> dict[str, Any]:
    """The summary of a failed run, naming the failed checks or gates."""
    code = err.exit_code if isinstance(err, TrainerError) else 1
    status = err.status if isinstance(err, TrainerError) else "error"
    out: dict[str, Any] = {"status": status, "exitCode": code, "message": str(err)}
    if isinstance(err, DataValidationError):
        failed = [c for c in err.checks if not c["passed"]]
        out["failedChecks"] = [
            {k: c[k] for k in ("name", "column", "message") if k in c} for c in failed
        ]
        out["checks"] = {"passed": len(err.checks) - len(failed), "failed": len(failed)}
        if "rows" in err.dataset:
            out["rows"] = err.dataset["rows"]
        if "sha256" in err.dataset:
            out["dataSha256"] = err.dataset["sha256"]
    if isinstance(err, GateFailed):
        out["metrics"] = {
            k: err.metrics[k] for k in ("rocAuc", "prAuc", "f1", "f2", "precision", "recall")
        }
        out["failedGates"] = [
            {k: g[k] for k in ("name", "observed", "op", "threshold", "segment") if k in g}
            for g in err.gates
            if not g["passed"]
        ]
    return out


def _emit(summary: dict[str, Any], termination_log: str | None) -> None:
    line = summary_line(summary)
    print(line, flush=True)
    if termination_log:
        try:
            Path(termination_log).write_text(line + "\n", encoding="utf-8")
        except OSError as e:
            print(f"[churn-trainer] cannot write termination log: {e}", file=sys.stderr)


def cmd_train(args: argparse.Namespace) -> int:
    def work() -> dict[str, Any]:
        from .pipeline import train_run
        from .spec import load_spec

        spec = load_spec(args.spec, data_override=args.data)
        if args.output.startswith("s3://"):
            summary = _train_to_s3(spec, args.output)
        else:
            summary = train_run(spec, Path(args.output))
        print(summary["artifact"], flush=True)
        return summary

    return _run(args, work)


def _train_to_s3(spec: Any, prefix: str) -> dict[str, Any]:
    """Trains into a scratch store, then publishes the artifact under `<prefix>/<digest>/`
    (model_store.py), reached through S3Options.model_store_from_env (the operator's store)."""
    import os
    import tempfile

    from .model_store import upload_artifact
    from .pipeline import train_run
    from .spec import S3Options

    with tempfile.TemporaryDirectory(prefix="churn-artifact-") as scratch:
        summary = train_run(spec, Path(scratch))
        uri, created = upload_artifact(
            Path(summary["artifact"]), prefix, S3Options.model_store_from_env(os.environ)
        )
    print(
        f"[churn-trainer] artifact {'uploaded' if created else 'already in S3'}: {uri}",
        file=sys.stderr,
    )
    return {**summary, "artifact": uri, "created": created}


def cmd_fetch_artifact(args: argparse.Namespace) -> int:
    """Downloads and verifies an S3 artifact into a local store (e.g. a serving pod's init
    container filling an emptyDir); prints the local path."""
    from .model_store import ModelStoreError, download_artifact
    from .spec import S3Options

    try:
        path = download_artifact(args.uri, Path(args.dest), S3Options())
    except ModelStoreError as e:
        print(f"[churn-trainer] fetch-artifact failed: {e}", file=sys.stderr)
        return 1
    print(path, flush=True)
    return 0


def _run(args: argparse.Namespace, work: Callable[[], dict[str, Any]]) -> int:
    """Runs `work() -> summary`, emitting the summary line (or the failure's) and returning
    the exit code: the error's own for a TrainerError, 1 for anything else."""
    try:
        summary = work()
    except TrainerError as e:
        print(f"[churn-trainer] {e.status}: {e}", file=sys.stderr)
        _emit(failure_summary(e), args.termination_log)
        return e.exit_code
    except Exception as e:  # any bug still ends with a summary and exit 1
        traceback.print_exc()
        summary = failure_summary(e)
        summary["message"] = f"{type(e).__name__}: {e}"
        _emit(summary, args.termination_log)
        return 1
    _emit(summary, args.termination_log)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    def work() -> dict[str, Any]:
        from .pipeline import validate_data, validation_summary
        from .spec import load_spec

        t0 = time.monotonic()
        spec = load_spec(args.spec, data_override=args.data)
        return validation_summary(validate_data(spec), time.monotonic() - t0)

    return _run(args, work)


def cmd_synth(args: argparse.Namespace) -> int:
    from .synth import write_synthetic

    try:
        path = write_synthetic(args.rows, args.seed, Path(args.output), args.shape)
    except (OSError, ValueError) as e:
        print(f"[churn-trainer] synth failed: {e}", file=sys.stderr)
        return 1
    print(path, flush=True)
    return 0


def parser() -> argparse.ArgumentParser:
    """The CLI's argument parser."""
    p = argparse.ArgumentParser(prog="churn_trainer", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="validate, train, export and write an artifact")
    t.add_argument("--spec", required=True, help="spec file (YAML or JSON)")
    t.add_argument(
        "--output",
        required=True,
        help="artifact store: a directory, or s3://bucket/prefix/ (endpoint and region from "
        "AWS_ENDPOINT_URL_S3 and AWS_REGION, keys from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)",
    )
    t.add_argument("--data", help="dataset path or http(s) URL (overrides the spec)")
    t.add_argument("--termination-log", help="also write the one-line JSON summary here")
    t.set_defaults(func=cmd_train)
    v = sub.add_parser(
        "validate", help="run train's data checks only (every row); write nothing but the summary"
    )
    v.add_argument("--spec", required=True, help="spec file (YAML or JSON)")
    v.add_argument("--data", help="dataset path or http(s) URL (overrides the spec)")
    v.add_argument("--termination-log", help="also write the one-line JSON summary here")
    v.set_defaults(func=cmd_validate)
    s = sub.add_parser("synth", help="write a synthetic churn CSV (bank- or telecom-shaped)")
    s.add_argument("--rows", type=int, required=True)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--output", required=True)
    s.add_argument(
        "--shape",
        choices=["bank", "telecom"],
        default="bank",
        help="bank: the seed file's columns, comma-separated (default); telecom: Yes/No labels "
        "and categories, semicolon-separated",
    )
    s.set_defaults(func=cmd_synth)
    f = sub.add_parser(
        "fetch-artifact",
        help="download an artifact from s3://bucket/prefix/<digest>/ into DEST/<digest>, "
        "refusing it unless its _COMPLETE manifest and digest match",
    )
    f.add_argument("uri")
    f.add_argument("--dest", required=True)
    f.set_defaults(func=cmd_fetch_artifact)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = parser().parse_args(argv)
    return args.func(args)
