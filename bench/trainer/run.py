"""Trainer benchmark: wall time and peak RSS of the whole trainer CLI (validation, training,
ONNX export, parity, artifact) beside a plain pandas + xgboost script doing only the seed
demo's steps, on the seed file and on synthetic 100k and 1M rows. Prints the ratios. Then the
hyperparameter search's cost and worth (search.py): per-trial wall and CPU, early stopping's
saving, and default against searched parameters on the seed, synthetic bank and telecom data.

    .venv/bin/python bench/trainer/run.py [--sizes 100000,1000000] [--skip-seed]
        [--skip-search | --search-only] [--search-rows 5000] [--search-seeds 1,2,3]

Results also go to bench/results/trainer.json and trainer-search.json. Not a test: nothing here
asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "trainer" / "examples" / "bank-churn.yaml"
SEED = ROOT.parent / "shared" / "data" / "seed" / "Customer-Churn-Records.csv"
PLAIN = Path(__file__).with_name("plain_xgboost.py")
RESULTS = ROOT / "bench" / "results" / "trainer.json"
SEARCH_RESULTS = ROOT / "bench" / "results" / "trainer-search.json"


def measure(cmd: list[str]) -> dict:
    """Runs `cmd`; returns wall seconds, the child's own peak RSS (MiB) and exit code."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "seconds": round(wall, 2),
        "cpuSeconds": round(usage.ru_utime + usage.ru_stime, 2),  # steadier on a shared box
        "peakRssMiB": round(usage.ru_maxrss / 1024, 1),  # Linux: KiB
        "exitCode": proc.returncode,
        "tail": (out.strip().splitlines() or [""])[-1][:300]
        if proc.returncode == 0
        else err[-600:],
    }


def bench(name: str, data: Path, rows: int, tmp: Path) -> dict:
    print(f"[bench] {name}: trainer CLI ...", file=sys.stderr, flush=True)
    trainer = measure(
        [
            sys.executable,
            "-m",
            "churn_trainer",
            "train",
            "--spec",
            str(SPEC),
            "--data",
            str(data),
            "--output",
            str(tmp / f"store-{name}"),
        ]
    )
    print(f"[bench] {name}: plain pandas + xgboost ...", file=sys.stderr, flush=True)
    plain = measure([sys.executable, str(PLAIN), str(data)])
    return {
        "dataset": name,
        "rows": rows,
        "trainer": trainer,
        "plain": plain,
        "wallRatio": round(trainer["seconds"] / plain["seconds"], 2),
        "cpuRatio": round(trainer["cpuSeconds"] / plain["cpuSeconds"], 2),
        "rssRatio": round(trainer["peakRssMiB"] / plain["peakRssMiB"], 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000", help="synthetic row counts")
    ap.add_argument("--skip-seed", action="store_true")
    ap.add_argument("--skip-search", action="store_true")
    ap.add_argument("--search-only", action="store_true")
    ap.add_argument("--search-rows", type=int, default=5000, help="synthetic rows per search")
    ap.add_argument("--search-seeds", default="1,2,3", help="synthetic data seeds")
    args = ap.parse_args()
    code = 0 if args.search_only else cli_bench(args)
    if not args.skip_search:
        bench_search(args)
    return code


def bench_search(args: argparse.Namespace) -> None:
    """The search's cost and worth (search.py), printed and written to SEARCH_RESULTS."""
    sys.path.insert(0, str(Path(__file__).parent))
    import search

    seed = None if args.skip_seed or not SEED.exists() else SEED
    seeds = [int(s) for s in args.search_seeds.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="churn-bench-search-") as t:
        report = search.run(Path(t), seed, args.search_rows, seeds)
    search.print_report(report)
    SEARCH_RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {SEARCH_RESULTS.relative_to(ROOT)}")


def cli_bench(args: argparse.Namespace) -> int:
    """The trainer CLI beside plain pandas + xgboost; 0 when every trainer run succeeded."""
    results = []
    with tempfile.TemporaryDirectory(prefix="churn-bench-") as t:
        tmp = Path(t)
        if not args.skip_seed:
            if SEED.exists():
                results.append(bench("seed", SEED, 10_000, tmp))
            else:
                print(f"[bench] seed file not found at {SEED}; skipped", file=sys.stderr)
        for size in [int(s) for s in args.sizes.split(",") if s]:
            data = tmp / f"synth-{size}.csv"
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "churn_trainer",
                    "synth",
                    "--rows",
                    str(size),
                    "--seed",
                    "1",
                    "--output",
                    str(data),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            results.append(bench(f"synthetic-{size // 1000}k", data, size, tmp))

    head = (
        f"{'dataset':<16}{'rows':>9} | {'trainer s':>9} {'cpu s':>7} {'MiB':>5} | "
        f"{'plain s':>7} {'cpu s':>7} {'MiB':>5} | {'wall x':>6} {'cpu x':>6} {'mem x':>6} | exit"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        t, p = r["trainer"], r["plain"]
        print(
            f"{r['dataset']:<16}{r['rows']:>9} | {t['seconds']:>9.2f} {t['cpuSeconds']:>7.2f} "
            f"{t['peakRssMiB']:>5.0f} | {p['seconds']:>7.2f} {p['cpuSeconds']:>7.2f} "
            f"{p['peakRssMiB']:>5.0f} | {r['wallRatio']:>6.2f} {r['cpuRatio']:>6.2f} "
            f"{r['rssRatio']:>6.2f} | {t['exitCode']}/{p['exitCode']}"
        )
    for r in results:
        if r["trainer"]["exitCode"] != 0:
            print(
                f"trainer failed on {r['dataset']}: {r['trainer']['tail']}",
                file=sys.stderr,
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"cpus": os.cpu_count(), "results": results}, indent=2) + "\n")
    print(f"written {RESULTS.relative_to(ROOT)}")
    return 0 if all(r["trainer"]["exitCode"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
