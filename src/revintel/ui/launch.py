"""Start the dashboard: ``streamlit run ui/app.py`` in a subprocess with the theme and settings."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import webbrowser
from collections.abc import Mapping
from pathlib import Path

from revintel.core.config import Settings
from revintel.ui.theme import theme_flags

APP_SCRIPT = Path(__file__).with_name("app.py")
ASGI_SCRIPT = Path(__file__).with_name("asgi.py")
"""What ``streamlit run`` is given: the ASGI app serving :data:`APP_SCRIPT` (``ui/asgi.py``)."""
STOP_TIMEOUT = 10.0  # seconds Streamlit gets to stop after Ctrl-C before it is killed


def dashboard_command(host: str, port: int) -> list[str]:
    """The ``streamlit run`` command line for the dashboard, through :mod:`revintel.ui.server`
    (which imports the pages' modules and warms the caches before the first visitor)."""
    return [
        sys.executable,
        "-m",
        "revintel.ui.server",
        str(ASGI_SCRIPT),
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        # No source watching: it is for editing the app's own code, and after every script run
        # it walks every imported module's path whenever sys.modules has grown (lazy imports in
        # the background forecasts make it grow), which cost ~0.2 s per filter change.
        "--server.fileWatcherType",
        "none",
        # Streamlit's forced full collection after every script run (gc.collect(2)) walks every
        # object of a process holding pandas, Ibis and the forecasting stack: 0.1-0.2 s per rerun.
        # Python's own generational collection still runs; the server freezes its warm objects.
        "--runner.postScriptGC",
        "false",
        *theme_flags(),
    ]


def dashboard_env(settings: Settings, base: Mapping[str, str] = os.environ) -> dict[str, str]:
    """``base`` with the settings the dashboard must share with the command that started it."""
    env = dict(base)
    env["REVINTEL_HOME"] = str(settings.home)
    for name, value in (
        ("REVINTEL_WAREHOUSE_URL", settings.warehouse_url),
        ("REVINTEL_DATABASE_URL", settings.database_url),
    ):
        if value:
            env[name] = value
        else:  # unset in the settings, so unset here (revintel.toml, read again, has none either)
            env.pop(name, None)
    env["REVINTEL_MAX_PROBLEMS"] = str(settings.max_problems)
    return env


def local_url(host: str, port: int) -> str:
    """A URL this machine can open for a server bound to ``host``."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], *, interval: float = 0.25, timeout: float = 120.0
) -> bool:
    """Poll Streamlit's health endpoint until it answers; False if the process exits first."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(interval)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # Streamlit shuts down cleanly on SIGINT
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_dashboard(
    settings: Settings, *, host: str = "127.0.0.1", port: int = 8501, open_browser: bool = True
) -> int:
    """Run the dashboard until it exits or Ctrl-C; return its exit code (0 after Ctrl-C)."""
    process = subprocess.Popen(dashboard_command(host, port), env=dashboard_env(settings))
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if in_main_thread else None
    if in_main_thread:
        # Stopping this process stops the dashboard too, rather than orphaning it.
        signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        url = local_url(host, port)
        if wait_until_up(url, process):
            print(f"revintel dashboard: http://{host}:{port}", flush=True)
            if open_browser:
                webbrowser.open(url)
        elif process.poll() is None:
            print(f"revintel dashboard: still starting on http://{host}:{port}", flush=True)
        return process.wait()
    except KeyboardInterrupt:
        try:
            _stop(process)
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting
            process.kill()
            process.wait()
        return 0
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
