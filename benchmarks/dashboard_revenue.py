"""Benchmark: the Executive Overview at 100k customers, in headless Chromium.

Generates a company (not timed), loads it into a temporary home, starts ``revintel dashboard`` on
it and drives Debian's chromium with Playwright:

- first render: from navigation to the page until the KPI tiles and a Plotly chart are drawn and
  Streamlit's running indicator is gone (each repetition in a new browser context, on a server
  whose caches are warm after the first one; the first one is also reported on its own);
- forecast ready: until the forecast caption is shown (it is computed in the background);
- filter change: from picking a segment in the sidebar until the MRR tile shows a new value and
  the run has finished; each repetition picks a value not picked before (uncached), then the same
  filters are picked again (cached).

Prints one JSON line per measure with the figures and the target:

    uv run python -m benchmarks.dashboard_revenue [--customers 100000] [--months 36] [--repeat 3]

Targets (issue 3): first render ≤ 1.5 s and a filter change ≤ 300 ms at 100k customers.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import suppress
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
TARGET_FIRST_RENDER = 1.5
TARGET_FILTER_CHANGE = 0.3
CHART = '[data-testid="stPlotlyChart"] .main-svg, [data-testid="stVegaLiteChart"] .marks'
"""A drawn chart: Plotly (most pages) or Vega-Lite (the Executive Overview)."""
RUNNING = '[data-testid="stStatusWidget"]'
START_TIMEOUT = 180.0


def prepare(customers: int, months: int, root: Path) -> Path:
    """Generate and load a company into ``root/home``; return the home."""
    from revintel.config import Settings
    from revintel.context import AppContext
    from revintel.data.generator import generate_company, write_company
    from revintel.data.loading import load_paths

    files, home = root / "files", root / "home"
    write_company(generate_company(customers=customers, months=months, seed=42), files, "parquet")
    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    try:
        load_paths(ctx, [files], source="benchmark")
    finally:
        ctx.close()
    return home


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_dashboard(home: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVINTEL_")}
    env["REVINTEL_CONFIG"] = str(home.parent / "no-revintel.toml")
    command = [sys.executable, "-m", "revintel", "dashboard", "--no-browser", "--port", str(port),
               "--home", str(home)]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the dashboard exited:\n{log.read_text()}")
        with (
            suppress(OSError),
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response,
        ):
            if response.status == 200:
                return process, url
        time.sleep(0.3)
    raise RuntimeError(f"the dashboard did not start:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def wait_rendered(page: Any, timeout: float = 120_000) -> None:
    """Tiles and a chart drawn, and no script run in progress."""
    page.locator('[data-testid="stMetric"]').first.wait_for(timeout=timeout)
    page.locator(CHART).first.wait_for(timeout=timeout)
    page.wait_for_function(
        f"() => !document.querySelector('{RUNNING}')?.textContent?.includes('Running')",
        timeout=timeout,
        polling=20,
    )


def mrr_tile(page: Any) -> str:
    return page.evaluate(
        """() => {
        for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
          const label = m.querySelector('[data-testid="stMetricLabel"]');
          if (label && label.textContent.trim() === 'MRR')
            return m.querySelector('[data-testid="stMetricValue"]').textContent.trim();
        }
        return null; }"""
    )


def _open(box: Any, page: Any) -> None:
    """Open a sidebar dropdown: scroll it into view first (a dropdown opened while the sidebar
    scrolls closes again), then click."""
    box.scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    box.click()


def pick_segment(page: Any, value: str | None) -> float:
    """Set the Segment filter to ``value`` (None: clear); seconds until the page re-rendered."""
    before = mrr_tile(page)
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(
        has_text="Segment"
    )
    started = time.perf_counter()
    if value is None:
        box.locator('[role="button"][aria-label*="Clear"], svg[title="Clear all"]').first.click()
    else:
        _open(box.locator("input"), page)
        page.locator('[role="option"]').filter(has_text=value).first.click()
        started = time.perf_counter()  # the pick itself, not the opening of the list
    page.wait_for_function(
        """(before) => {
        for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
          const label = m.querySelector('[data-testid="stMetricLabel"]');
          if (label && label.textContent.trim() === 'MRR')
            return m.querySelector('[data-testid="stMetricValue"]').textContent.trim() !== before;
        }
        return false; }""",
        arg=before,
        timeout=120_000,
        polling=10,
    )
    wait_rendered(page)
    seconds = time.perf_counter() - started
    page.keyboard.press("Escape")
    return seconds


def measure(url: str, repeat: int) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    results: list[dict[str, Any]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            renders: list[float] = []
            forecast: list[float] = []
            for _ in range(repeat + 1):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                started = time.perf_counter()
                page.goto(f"{url}/executive-overview", wait_until="commit")
                wait_rendered(page)
                renders.append(time.perf_counter() - started)
                page.get_by_text("Forecast 6 months ahead").wait_for(timeout=120_000)
                forecast.append(time.perf_counter() - started)
                if len(renders) <= repeat:
                    context.close()
            results.append(_figures("first_render_cold_server", renders[:1], TARGET_FIRST_RENDER))
            results.append(_figures("first_render", renders[1:], TARGET_FIRST_RENDER))
            results.append(_figures("forecast_shown_cold_server", forecast[:1], None))
            results.append(_figures("forecast_shown", forecast[1:], None))

            segments = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]')
            _open(segments.filter(has_text="Segment").locator("input"), page)
            page.locator('[role="option"]').first.wait_for(timeout=30_000)
            values = page.locator('[role="option"]').all_inner_texts()
            page.keyboard.press("Escape")
            # Streamlit lists a "Select all" entry first: pick real segments only.
            picks = [v.strip() for v in values if v.strip() and v.strip() != "Select all"]
            picks = picks[:repeat]
            uncached = []
            for value in picks:  # each a new filter combination: computed, not cached
                uncached.append(pick_segment(page, value))
                _clear_segment(page)
            cached = []
            for value in picks:  # the same combinations again: from the cache
                cached.append(pick_segment(page, value))
                _clear_segment(page)
            results.append(_figures("filter_change_uncached", uncached, TARGET_FILTER_CHANGE))
            results.append(_figures("filter_change_cached", cached, TARGET_FILTER_CHANGE))
        finally:
            browser.close()
    return results


def _clear_segment(page: Any) -> None:
    """Remove the picked segment (not timed) and wait for the page to settle."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(
        has_text="Segment"
    )
    box.locator("input").click()
    page.keyboard.press("Backspace")
    page.keyboard.press("Escape")
    page.wait_for_timeout(200)
    wait_rendered(page)
    page.wait_for_timeout(300)


def _figures(name: str, seconds: list[float], target: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "measure": name,
        "runs": len(seconds),
        "seconds": [round(s, 3) for s in seconds],
        "median_seconds": round(statistics.median(seconds), 3) if seconds else None,
        "max_seconds": round(max(seconds), 3) if seconds else None,
    }
    if target is not None:
        out["target_seconds"] = target
        out["meets_target"] = bool(seconds) and max(seconds) <= target
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--home", type=Path, help="reuse a home with a company already loaded")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="revintel-bench-dashboard-") as tmp:
        root = Path(tmp)
        home = args.home or prepare(args.customers, args.months, root)
        process, url = start_dashboard(home, root / "dashboard.log")
        try:
            for row in measure(url, args.repeat):
                row.update(customers=args.customers, months=args.months, cpus=os.cpu_count())
                print(json.dumps(row), flush=True)
        finally:
            stop(process)


if __name__ == "__main__":
    main()
