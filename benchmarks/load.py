"""Benchmark: validate and load a generated company into a fresh home, at several sizes.

For each size the company is generated and written to a temporary folder by one subprocess (not
timed), then loaded with ``load_paths`` by another, so the figures are the load's own: wall time,
rows per second, peak resident memory, CPU time. Prints one JSON line per size:

    uv run --group test python -m benchmarks.load [--sizes 10000,100000] [--months 36]
        [--format parquet]
                                     [--postgres postgresql://postgres@127.0.0.1:5432]

With ``--postgres SERVER`` the same process then loads the same files into a PostgreSQL warehouse
(a new database on that server, dropped afterwards) and the record gains ``postgres`` (the same
figures) and ``postgres_ratio`` (its wall time over the Parquet load's).

Targets: 1M customers x 36 months (tens of millions of rows) in under a minute on 2 cores; a
PostgreSQL load within 2x the Parquet load of the same files.
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
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

DEFAULT_SIZES = [10_000, 100_000, 1_000_000]
TARGET_SECONDS = 60.0  # at 1M customers x 36 months
POSTGRES_TARGET_RATIO = 2.0  # a PostgreSQL load's wall time over the Parquet load's
ROOT = Path(__file__).resolve().parents[1]
FileFormat = Literal["parquet", "csv"]


def generate(customers: int, months: int, out: Path, fmt: FileFormat, seed: int = 42) -> None:
    """Write the company's tables to ``out`` (tables without rows are not written)."""
    from revintel.data.generator import generate_company, write_company

    company = generate_company(customers=customers, months=months, seed=seed)
    write_company(company, out, fmt)


def measure(folder: Path, home: Path, warehouse_url: str | None = None) -> dict[str, Any]:
    """Load every table file in ``folder`` into a new home at ``home``; time it in this process."""
    from revintel.app.context import AppContext
    from revintel.app.ingest import load_paths
    from revintel.core.config import Settings

    ctx = AppContext(Settings(home=home, warehouse_url=warehouse_url, database_url=None))
    ctx.store  # noqa: B018 - open and migrate the app database before the clock starts
    warehouse = ctx.warehouse
    commit = warehouse.commit
    commit_seconds = 0.0

    def timed_commit(*args: Any, **kwargs: Any) -> None:
        nonlocal commit_seconds
        started = time.perf_counter()
        commit(*args, **kwargs)
        commit_seconds = time.perf_counter() - started

    warehouse.commit = timed_commit  # type: ignore[method-assign]
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    result = load_paths(ctx, [folder], source="benchmark")
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before
    ctx.close()
    rows = sum(result.tables.values())
    return {
        "seconds": round(seconds, 2),
        "commit_seconds": round(commit_seconds, 2),
        # CPU time of this process during the load: a check on wall time when the machine is
        # shared (a PostgreSQL load's server side is not in it).
        "cpu_seconds": round(cpu, 2),
        "rows": rows,
        "tables": len(result.tables),
        "largest_table_rows": max(result.tables.values()),
        "rows_per_second": round(rows / seconds) if seconds > 0 else None,
        "input_mb": round(
            sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) / 2**20, 1
        ),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }


def measure_both(folder: Path, home: Path, postgres_server: str | None) -> dict[str, Any]:
    """:func:`measure` into Parquet, then (with a server) the same files into PostgreSQL."""
    record = measure(folder, home / "parquet")
    if postgres_server is None:
        return record
    with _postgres_database(postgres_server) as url:
        record["postgres"] = measure(folder, home / "postgres", warehouse_url=url)
    record["postgres_ratio"] = round(record["postgres"]["seconds"] / record["seconds"], 2)
    record["postgres_target_ratio"] = POSTGRES_TARGET_RATIO
    return record


@contextmanager
def _postgres_database(server: str) -> Iterator[str]:
    """A new database on ``server`` (a libpq URL without a database), dropped afterwards."""
    import psycopg
    from psycopg import sql

    name = f"revintel_bench_{uuid.uuid4().hex[:12]}"
    admin = f"{server.rstrip('/')}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{server.rstrip('/')}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def _child(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.load", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _last_error(child: subprocess.CompletedProcess[str]) -> str:
    lines = (child.stderr or "").strip().splitlines()
    return lines[-1] if lines else f"exit code {child.returncode}"


def run(
    sizes: list[int] | None = None,
    months: int = 36,
    fmt: FileFormat = "parquet",
    postgres: str | None = None,
) -> list[dict[str, Any]]:
    """Benchmark each size (generation and load in separate subprocesses); print its record."""
    results = []
    for customers in sizes or DEFAULT_SIZES:
        record: dict[str, Any] = {
            "benchmark": "load",
            "customers": customers,
            "months": months,
            "format": fmt,
        }
        with tempfile.TemporaryDirectory(prefix="revintel-bench-load-") as tmp:
            data, home = Path(tmp) / "data", Path(tmp) / "home"
            made = _child(
                "--generate",
                str(customers),
                "--months",
                str(months),
                "--out",
                str(data),
                "--format",
                fmt,
            )
            measure_args = ["--measure", str(data), "--home", str(home)]
            measure_args += ["--postgres", postgres] if postgres else []
            loaded = None if made.returncode else _child(*measure_args)
            if made.returncode:
                record["error"] = "generate: " + _last_error(made)
            elif loaded is None or loaded.returncode:
                record["error"] = "load: " + _last_error(loaded)  # type: ignore[arg-type]
            else:
                record.update(json.loads(loaded.stdout.strip().splitlines()[-1]))
        record["target_seconds"] = TARGET_SECONDS
        if "seconds" in record and customers == 1_000_000 and months == 36:
            record["within_target"] = record["seconds"] <= TARGET_SECONDS
        print(json.dumps(record), flush=True)
        results.append(record)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("--sizes", help="comma-separated customer counts (default 10k,100k,1M)")
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--format", dest="fmt", choices=["parquet", "csv"], default="parquet")
    parser.add_argument(
        "--postgres",
        metavar="SERVER",
        help="also load into a new database on this PostgreSQL server "
        "(e.g. postgresql://postgres@127.0.0.1:5432)",
    )
    parser.add_argument("--generate", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate is not None:
        generate(args.generate, args.months, args.out, args.fmt)
        return 0
    if args.measure is not None:
        print(json.dumps(measure_both(args.measure, args.home, args.postgres)), flush=True)
        return 0
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")] if args.sizes else None
    results = run(sizes, args.months, args.fmt, args.postgres)
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
