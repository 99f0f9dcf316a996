"""Benchmark: the Account Health page at ~100k accounts in headless Chromium.

See docs/health.md, Speed.

Target: the page renders in ≤ 1.5 s. Steps:

1. generate a company big enough for ~100k rows in ``accounts`` (``--customers``, default 240k;
   accounts are the paying customers, about 42% of them) and load it into a temporary home (or
   reuse ``--home`` when it is already loaded, to save the ~minutes of generating);
2. start the dashboard (``python -m revintel dashboard``) on a free port;
3. open ``/account-health`` in headless Chromium and time, from navigation to a settled page
   (the heading, the five KPI tiles and the treemap boxes are drawn and Streamlit's status
   widget no longer shows "Running"):

   * ``cold``: the first visit after the dashboard started (nothing cached in the server);
   * ``warm``: reloads of the same page (a new Streamlit session, the server's caches warm).

   ``--repeat`` restarts the dashboard that many times (one cold and ``--reloads`` warm figures
   each).

Prints one JSON line per measurement and a summary line:

    uv run --group test python -m benchmarks health_page [--customers 240000] [--repeat 3]
        [--home DIR]
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
import urllib.error
import urllib.request
from contextlib import suppress
from pathlib import Path

TARGET_SECONDS = 1.5
CHROMIUM = Path("/usr/bin/chromium")
START_TIMEOUT = 300.0
RENDER_TIMEOUT_MS = 120_000
KPI_TILES = 5

SETTLED_JS = """
(tiles) => {
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main) return false;
  const heading = [...main.querySelectorAll('h1')]
    .some(h => h.textContent.trim() === 'Account Health');
  const metrics = main.querySelectorAll('[data-testid="stMetric"]').length >= tiles;
  const boxes = main.querySelectorAll('.treemaplayer g.slice').length > 0;
  const status = document.querySelector('[data-testid="stStatusWidget"]');
  const running = status !== null && /running/i.test(status.textContent || '');
  const stale = main.querySelectorAll('[data-stale="true"]').length > 0;
  return heading && metrics && boxes && !running && !stale;
}
"""


def _settings(home: Path):
    from revintel.core.config import Settings

    return Settings(home=home, warehouse_url=None, database_url=None)


def accounts_loaded(home: Path) -> int | None:
    """Rows of ``accounts`` in the home's warehouse, None when it is not loaded."""
    from revintel.app.context import AppContext

    ctx = AppContext(_settings(home))
    try:
        if not ctx.warehouse.has_table("accounts"):
            return None
        return int(ctx.warehouse.row_counts().get("accounts", 0))
    finally:
        ctx.close()


def prepare(home: Path, customers: int, months: int, seed: int) -> dict:
    """Generate and load the company into ``home`` unless it is loaded already."""
    from revintel.app.context import AppContext
    from revintel.app.ingest import load_paths
    from revintel.data.generator import generate_company, write_company

    existing = accounts_loaded(home) if home.exists() else None
    if existing is not None:
        return {"accounts": existing, "reused": True}
    started = time.perf_counter()
    company = generate_company(customers=customers, months=months, seed=seed)
    generated = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "company"
        write_company(company, folder, "parquet")
        ctx = AppContext(_settings(home))
        try:
            started = time.perf_counter()
            load_paths(ctx, [folder], source="benchmark")
            loaded = time.perf_counter() - started
            counts = ctx.warehouse.row_counts()
        finally:
            ctx.close()
    return {
        "customers": customers,
        "months": months,
        "accounts": int(counts.get("accounts", 0)),
        "usage_rows": int(counts.get("usage", 0)),
        "generate_seconds": round(generated, 1),
        "load_seconds": round(loaded, 1),
        "reused": False,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_dashboard(home: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVINTEL_")}
    env["REVINTEL_CONFIG"] = str(log.parent / "no-revintel.toml")
    command = [
        sys.executable, "-m", "revintel", "dashboard",
        "--no-browser", "--port", str(port), "--home", str(home),
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the dashboard exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return process, url
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    stop_dashboard(process)
    raise RuntimeError(f"the dashboard did not answer within {START_TIMEOUT:.0f} s")


def stop_dashboard(process: subprocess.Popen[bytes]) -> None:
    """Stop the dashboard's process group (the command and the Streamlit server it starts)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _settle(page) -> float:
    """Seconds from now until the page is settled (see the module docstring)."""
    started = time.perf_counter()
    page.wait_for_function(SETTLED_JS, arg=KPI_TILES, timeout=RENDER_TIMEOUT_MS, polling=25)
    return time.perf_counter() - started


def measure(url: str, reloads: int) -> list[tuple[str, float]]:
    """Cold visit then ``reloads`` reloads of the Account Health page, in one fresh Chromium."""
    from playwright.sync_api import sync_playwright

    out: list[tuple[str, float]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            started = time.perf_counter()
            page.goto(f"{url}/account-health", wait_until="commit")
            page.wait_for_function(SETTLED_JS, arg=KPI_TILES, timeout=RENDER_TIMEOUT_MS, polling=25)
            out.append(("cold", time.perf_counter() - started))
            if page.locator('[data-testid="stException"]').count():
                raise RuntimeError("the page shows an exception")
            for _ in range(reloads):
                started = time.perf_counter()
                page.reload(wait_until="commit")
                page.wait_for_function(
                    SETTLED_JS, arg=KPI_TILES, timeout=RENDER_TIMEOUT_MS, polling=25
                )
                out.append(("warm", time.perf_counter() - started))
        finally:
            browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=240_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="dashboard restarts (cold visits)")
    parser.add_argument("--reloads", type=int, default=3, help="warm reloads per restart")
    parser.add_argument("--home", type=Path, help="a home to (re)use; default: a temporary one")
    args = parser.parse_args()
    if not CHROMIUM.is_file():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")

    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or Path(tmp) / "home"
        info = prepare(home, args.customers, args.months, args.seed)
        print(json.dumps({"benchmark": "health_page.data", **info}), flush=True)
        accounts = info["accounts"]
        results: dict[str, list[float]] = {"cold": [], "warm": []}
        for run in range(args.repeat):
            log = Path(tmp) / f"dashboard-{run}.log"
            process, url = start_dashboard(home, log)
            try:
                for kind, seconds in measure(url, args.reloads):
                    results[kind].append(seconds)
                    row = {
                        "benchmark": f"health_page.{kind}",
                        "run": run,
                        "accounts": accounts,
                        "seconds": round(seconds, 3),
                        "target_seconds": TARGET_SECONDS,
                        "ok": seconds <= TARGET_SECONDS,
                    }
                    print(json.dumps(row), flush=True)
            finally:
                stop_dashboard(process)
        summary = {
            "benchmark": "health_page.summary",
            "accounts": accounts,
            "target_seconds": TARGET_SECONDS,
        }
        for kind, values in results.items():
            if values:
                summary[f"{kind}_median_seconds"] = round(statistics.median(values), 3)
                summary[f"{kind}_max_seconds"] = round(max(values), 3)
                summary[f"{kind}_ok"] = max(values) <= TARGET_SECONDS
        print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
