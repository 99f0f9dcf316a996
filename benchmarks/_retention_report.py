"""Benchmark ``retention --part report``: the executive report as PDF at 100k customers (target
≤ 15 s for building the report and rendering its PDF; docs/retention.md, Executive report).

    uv run --group test python -m benchmarks retention --part report [--customers 100000]
        [--months 36] [--home DIR] [--keep DIR] [--no-churn]

Steps: generate the demo company (``revintel.data.generator``) into a temporary folder, load it,
train and score the 3-month churn model (so the risk section is drawn), then, in a fresh process
(nothing cached), build the report of the last complete month and render its PDF. The figures:
each phase's wall seconds, the measured process's CPU seconds, the load average while it ran, the
PDF's size and pages. ``--home`` reuses a home prepared before (skips the preparation);
``--keep`` prepares into DIR and keeps it.
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
from typing import Any

TARGET_SECONDS = 15.0


def prepare(root: Path, customers: int, months: int, seed: int, churn: bool) -> dict[str, float]:
    """A home under ``root`` holding the generated company (and scored churn predictions)."""
    from revintel.app import churn as app_churn
    from revintel.app.context import AppContext
    from revintel.app.ingest import load_paths
    from revintel.churn import service as churn_service
    from revintel.core.config import Settings
    from revintel.data.generator import generate_company, write_company

    phases: dict[str, float] = {}
    started = time.perf_counter()
    company = generate_company(customers=customers, months=months, seed=seed)
    write_company(company, root / "company", fmt="parquet")
    phases["generate_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    ctx = AppContext(Settings(home=root / "home", warehouse_url=None, database_url=None))
    try:
        load_paths(ctx, [root / "company"], source="benchmark")
        ctx.refresh()
        phases["load_seconds"] = time.perf_counter() - started
        if churn:
            started = time.perf_counter()
            churn_service.train_warehouse_model(ctx, 3)
            app_churn.score_warehouse(ctx)
            phases["churn_train_and_score_seconds"] = time.perf_counter() - started
    finally:
        ctx.close()
    return phases


def measure(home: Path) -> dict[str, Any]:
    """Build the report of ``home``'s last complete month and render its PDF, timing each phase
    (run in a fresh process by :func:`run`)."""
    from revintel.app.context import AppContext
    from revintel.core.config import Settings

    cpu = time.process_time()
    started = time.perf_counter()
    import revintel.app  # noqa: F401  (the wiring, as every face imports it)
    from revintel.app.retention.executive import executive_report
    from revintel.app.retention.executive_render import html

    imports = time.perf_counter() - started
    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    try:
        started = time.perf_counter()
        report = executive_report(ctx)
        build = time.perf_counter() - started
        started = time.perf_counter()
        page = html(report, "png")
        charts_and_html = time.perf_counter() - started
        from weasyprint import HTML

        started = time.perf_counter()
        document = HTML(string=page).render()
        data = document.write_pdf()
        pdf = time.perf_counter() - started
    finally:
        ctx.close()
    return {
        "month": report.month,
        "import_seconds": round(imports, 2),
        "build_seconds": round(build, 2),
        "build_phases": {k: round(v, 2) for k, v in report.timings.items()},
        "charts_and_html_seconds": round(charts_and_html, 2),
        "pdf_seconds": round(pdf, 2),
        "report_seconds": round(build + charts_and_html + pdf, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "pdf_bytes": len(data),
        "pdf_pages": len(document.pages),
        "missing_sections": [m.section for m in report.missing],
        "load_average": round(os.getloadavg()[0], 1),
    }


def run(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks retention --part report")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--home", type=Path, help="A home prepared before: measure only.")
    parser.add_argument("--keep", type=Path, help="Prepare into this folder and keep it.")
    parser.add_argument("--no-churn", action="store_true", help="Skip training the churn model.")
    args, _ = parser.parse_known_args(argv)
    result: dict[str, Any] = {"customers": args.customers, "months": args.months}
    with tempfile.TemporaryDirectory(prefix="revintel-report-bench-") as scratch:
        if args.home is not None:
            home = args.home
            result["prepared"] = "given"
        else:
            root = args.keep or Path(scratch)
            root.mkdir(parents=True, exist_ok=True)
            result["prepare"] = {
                k: round(v, 2)
                for k, v in prepare(
                    root, args.customers, args.months, args.seed, not args.no_churn
                ).items()
            }
            home = root / "home"
        answer = subprocess.run(
            [sys.executable, "-m", "benchmarks._retention_report", "--measure", str(home)],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        result.update(json.loads(answer.stdout.strip().splitlines()[-1]))
    result["target_seconds"] = TARGET_SECONDS
    result["within_target"] = result["report_seconds"] <= TARGET_SECONDS
    return result


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        print(json.dumps(measure(Path(sys.argv[2]))), flush=True)
    else:
        print(json.dumps(run(sys.argv[1:])), flush=True)
