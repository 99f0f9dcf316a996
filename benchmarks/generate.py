"""Benchmark: generate the demo company and write it as Parquet, at several sizes.

Each size runs in a fresh subprocess (so peak memory is that size's own), which generates the
company, writes it to a temporary folder and reports its wall time and peak resident memory.
Prints one JSON line per size:

    uv run --group test python -m benchmarks.generate [--sizes 10000,100000] [--months 36]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_SIZES = [10_000, 100_000, 1_000_000]
TARGET_SECONDS = 120.0  # at 1M customers x 36 months
TARGET_PEAK_MB = 6144.0
ROOT = Path(__file__).resolve().parents[1]


def measure(customers: int, months: int, seed: int = 42) -> dict[str, Any]:
    """Generate and write one company in this process; wall times, rows and peak RSS."""
    from revintel.data.generator import generate_company, write_company

    started = time.perf_counter()
    company = generate_company(customers=customers, months=months, seed=seed)
    generated = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="revintel-bench-") as folder:
        paths = write_company(company, Path(folder), "parquet")
        written = time.perf_counter()
        size_mb = sum(p.stat().st_size for p in paths) / 2**20
    rows = sum(t.num_rows for t in company.tables.values())
    truth_rows = sum(t.num_rows for t in company.truth.values())
    seconds = written - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": round(seconds, 2),
        "generate_seconds": round(generated - started, 2),
        "write_seconds": round(written - generated, 2),
        # CPU time of the whole process: a check on wall time when the machine is shared.
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "rows": rows,
        "truth_rows": truth_rows,
        "rows_per_second": round(rows / seconds) if seconds > 0 else None,
        "parquet_mb": round(size_mb, 1),
        "peak_rss_mb": round(_peak_rss_mb(resource.RUSAGE_SELF), 1),
    }


def _peak_rss_mb(who: int) -> float:
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    peak = resource.getrusage(who).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def run(sizes: list[int] | None = None, months: int = 36) -> list[dict[str, Any]]:
    """Benchmark each size in its own subprocess; print and return one record per size."""
    results = []
    for customers in sizes or DEFAULT_SIZES:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        child = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.generate",
                "--child",
                str(customers),
                "--months",
                str(months),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        record: dict[str, Any] = {"benchmark": "generate", "customers": customers, "months": months}
        if child.returncode != 0:
            record["error"] = child.stderr.strip().splitlines()[-1] if child.stderr else "failed"
        else:
            record.update(json.loads(child.stdout.strip().splitlines()[-1]))
        record["target_seconds"] = TARGET_SECONDS
        record["target_peak_mb"] = TARGET_PEAK_MB
        if "seconds" in record and customers == 1_000_000 and months == 36:
            record["within_target"] = (
                record["seconds"] <= TARGET_SECONDS and record["peak_rss_mb"] <= TARGET_PEAK_MB
            )
        print(json.dumps(record), flush=True)
        results.append(record)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__)
    parser.add_argument("--sizes", help="comma-separated customer counts (default 10k,100k,1M)")
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(measure(args.child, args.months)), flush=True)
        return 0
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")] if args.sizes else None
    results = run(sizes, args.months)
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
