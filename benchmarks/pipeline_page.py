"""Benchmark: the Pipeline page (``/pipeline``) at 100k deals, in headless Chromium, against a bare
Streamlit page served the same way in the same run.

Target (issue 21): the page's first render is at most 1.2× the bare Streamlit page's. Steps:

1. a home with a small demo company (the dashboard's pages need its customers) whose deal tables
   are replaced by ``--deals`` deals of the scale writer (``benchmarks/pipeline.py``: their
   history and activities too), loaded (not timed);
2. ``revintel dashboard`` on it; the first render of ``/pipeline``, from the navigation's start
   until the KPI tiles and a chart are drawn and Streamlit no longer shows "Running", on the
   page's own clock (``performance.now()``), each visit in a new browser context: the first
   visit after the dashboard started (``cold server``) and ``--repeat`` more (server caches warm);
3. the floor: the bare Streamlit page of ``benchmarks/dashboard_revenue.py`` (one tile, one
   chart) served with the dashboard's Streamlit options, measured the same way (one visit not
   counted, then ``--repeat``).

The ratio is the median first render (server warm) ÷ the floor's median; the cold-server visit is
reported on its own beside it. Prints one JSON line per measure and a summary line:

    uv run --group test python -m benchmarks pipeline_page [--deals 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.dashboard_revenue import (
    FLOOR_PAGE,
    _figures,
    launch,
    measure_floor,
    start_dashboard,
    stop,
    wait_rendered,
)
from benchmarks.pipeline import write_scale_data

TARGET_VS_FLOOR = 1.2
"""First render (median, server warm) / the floor's first render (median), at most."""
DEAL_FILES = ("deals", "deal_stage_history", "deal_activities")


def prepare(root: Path, deals: int, customers: int) -> tuple[Path, dict[str, Any]]:
    """A home with a small company and ``deals`` scale deals loaded; returns it and its rows."""
    from revintel.app.context import AppContext
    from revintel.app.ingest import load_paths
    from revintel.core.config import Settings
    from revintel.data.generator import generate_company, write_company

    files, home = root / "files", root / "home"
    write_company(generate_company(customers=customers, months=24, seed=42), files, "parquet")
    shutil.rmtree(files / "truth", ignore_errors=True)  # the demo's deals are replaced below
    for name in DEAL_FILES:
        (files / f"{name}.parquet").unlink(missing_ok=True)
    write_scale_data(files, deals=deals, span_days=760)
    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    try:
        started = time.perf_counter()
        result = load_paths(ctx, [files], source="benchmark")
        seconds = time.perf_counter() - started
    finally:
        ctx.close()
    rows = {k: v for k, v in result.tables.items() if k in DEAL_FILES or k == "customers"}
    return home, {"rows": rows, "load_seconds": round(seconds, 1)}


def measure_page(url: str, repeat: int, screenshot: Path | None = None) -> list[dict[str, Any]]:
    """First renders of ``/pipeline``: a cold-server visit, then ``repeat`` more, each in a new
    browser context; refuses a page that shows an exception. With ``screenshot``, the last visit
    is saved there (after it was timed)."""
    from playwright.sync_api import sync_playwright

    renders: list[float] = []
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            for _ in range(repeat + 1):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                page.goto(f"{url}/pipeline", wait_until="commit")
                renders.append(wait_rendered(page) / 1000)
                if page.locator('[data-testid="stException"]').count():
                    raise RuntimeError("the Pipeline page shows an exception")
                if not page.get_by_role("heading", name="Pipeline").count():
                    raise RuntimeError("the Pipeline page's heading is not shown")
                if screenshot is not None and len(renders) == repeat + 1:
                    page.screenshot(path=str(screenshot), full_page=True)
                context.close()
        finally:
            browser.close()
    return [
        _figures("pipeline_first_render_cold_server", renders[:1], None),
        _figures("pipeline_first_render", renders[1:], None),
    ]


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    median = {row["measure"]: row["median_seconds"] for row in rows}
    first, floor = median["pipeline_first_render"], median["first_render_streamlit_floor"]
    cold = median["pipeline_first_render_cold_server"]
    return {
        "measure": "pipeline_page_vs_floor",
        "first_render_seconds": first,
        "cold_server_seconds": cold,
        "floor_seconds": floor,
        "ratio": round(first / floor, 2),
        "cold_server_ratio": round(cold / floor, 2),
        "target_ratio": TARGET_VS_FLOOR,
        "met": first / floor <= TARGET_VS_FLOOR,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--screenshot", type=Path, help="save the last visit's page here (PNG)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="revintel-bench-pipeline-page-") as tmp:
        root = Path(tmp)
        home, info = prepare(root, args.deals, args.customers)
        print(json.dumps({"measure": "prepare", **info}), flush=True)
        process, url = start_dashboard(home, root / "dashboard.log")
        try:
            rows = measure_page(url, args.repeat, args.screenshot)
        finally:
            stop(process)
        floor_page = root / "floor.py"
        floor_page.write_text(FLOOR_PAGE)
        process, url = start_dashboard(home, root / "floor.log", page=floor_page)
        try:
            rows.append(measure_floor(url, args.repeat))
        finally:
            stop(process)
        rows.append(summary(rows))
        for row in rows:
            row.update(deals=args.deals, cpus=os.cpu_count())
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
