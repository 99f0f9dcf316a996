"""The dashboard in a real browser: ``revintel demo`` started as a user would, then the Data page.

Needs Debian's chromium at /usr/bin/chromium (CI installs it); without it the test fails, on
purpose. The screenshot goes to ``$REVINTEL_TEST_ARTIFACTS`` or ``tests/artifacts/``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from revintel.app.context import AppContext
from revintel.core.config import Settings
from revintel.data.schema import CONTRACTS

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(
    os.environ.get("REVINTEL_TEST_ARTIFACTS") or Path(__file__).parents[1] / "artifacts"
)
START_TIMEOUT = 240.0  # generate + load + streamlit start-up, on a slow CI machine
TABLE_COLUMNS = 5  # table, loaded, rows, last loaded, description


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"revintel demo exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(f"the dashboard did not answer within {START_TIMEOUT:.0f} s:\n{log.read_text()}")


def _dump_stacks(group: int) -> list[int]:
    """Ask the group's dashboard server and forecasting worker for every thread's stack (they
    print it to the log on SIGUSR1, revintel.ui.server); returns the pids asked."""
    asked = []
    for proc in Path("/proc").glob("[0-9]*"):
        with suppress(OSError, ValueError, IndexError):
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
            # the process group is field 5 of /proc/PID/stat, after "(command name)"
            if int((proc / "stat").read_text().rsplit(")", 1)[1].split()[2]) != group:
                continue
            if b"revintel.ui.server" in command or b"spawn_main" in command:
                os.kill(int(proc.name), signal.SIGUSR1)
                asked.append(int(proc.name))
    return asked


def _stop(process: subprocess.Popen[bytes]) -> None:
    # The demo command and the Streamlit server it starts share a new process group.
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever is left of the group
    process.wait()


@contextmanager
def running_dashboard(home: Path, workdir: Path) -> Iterator[str]:
    """``revintel dashboard`` over ``home`` on a free port (REVINTEL_* variables ignored; its
    log in ``workdir``); yields the URL and stops the whole process group afterwards."""
    with running_revintel(["dashboard", "--home", str(home)], workdir) as url:
        yield url


@contextmanager
def running_revintel(arguments: list[str], workdir: Path) -> Iterator[str]:
    """``revintel <arguments> --port P --no-browser`` (``dashboard`` or ``demo``) on a free port,
    REVINTEL_* variables ignored, its log in ``workdir``; yields the URL, then stops the whole
    process group."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVINTEL_")}
    env["REVINTEL_CONFIG"] = str(workdir / "no-revintel.toml")
    log = workdir / f"{arguments[0]}.log"
    command = [sys.executable, "-m", "revintel", *arguments, "--port", str(port), "--no-browser"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, process, log)
        yield url
    finally:
        # Every thread's stack at the end, in the log kept with the artifacts: if a page hung,
        # the log shows where the server was.
        if process.poll() is None and _dump_stacks(process.pid):
            time.sleep(0.5)
        _stop(process)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with suppress(OSError):
            shutil.copyfile(log, ARTIFACTS / f"{workdir.name}-{log.name}")


@pytest.fixture
def demo_dashboard(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``revintel demo`` on a free port over a new home; yields the URL and the home."""
    home = tmp_path / "home"
    demo = ["demo", "--customers", "300", "--months", "12", "--home", str(home)]
    with running_revintel(demo, tmp_path) as url:
        yield url, home


def _row_counts(home: Path) -> dict[str, int]:
    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    try:
        return ctx.warehouse.row_counts()
    finally:
        ctx.close()


@pytest.mark.browser
def test_data_page_lists_the_demo_tables(demo_dashboard: tuple[str, Path]) -> None:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    url, home = demo_dashboard
    expected = _row_counts(home)
    assert expected.get("customers", 0) > 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "dashboard-data.png"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url, wait_until="domcontentloaded")
            page.locator('[data-testid="stSidebarNav"] a[href$="/data"]').click()
            page.wait_for_url(f"{url}/data")
            page.get_by_role("heading", name="Data", exact=True).wait_for(timeout=60_000)
            # The grid draws on a canvas; its cells are also in an accessible (invisible) table.
            cells_locator = page.locator('[data-testid="stDataFrame"]').first.locator(
                '[role="gridcell"]'
            )
            cells_locator.filter(has_text="customers").first.wait_for(
                state="attached", timeout=60_000
            )
            cells = cells_locator.all_inner_texts()
            rows = [cells[i : i + TABLE_COLUMNS] for i in range(0, len(cells), TABLE_COLUMNS)]
            shown = {
                row[0]: int(row[2].replace(",", "")) for row in rows if row[1] == "true" and row[2]
            }
            assert shown == expected
            every = len(CONTRACTS)  # every table revintel reads, the demo's among them
            assert page.get_by_text(f"{len(expected)} of {every}", exact=True).is_visible()
            assert page.locator('[data-testid="stException"]').count() == 0

            # Streamlit scrolls its main area itself: grow the window to the page for the shot.
            height = page.evaluate(
                "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight"
            )
            page.set_viewport_size({"width": 1400, "height": max(900, int(height) + 40)})
            page.wait_for_timeout(500)
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    assert screenshot.stat().st_size > 10_000
