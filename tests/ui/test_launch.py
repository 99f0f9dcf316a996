"""``run_dashboard``: the streamlit command, the settings it passes on, start-up and Ctrl-C."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from revintel.core.config import Settings, load_settings
from revintel.ui import launch
from revintel.ui.theme import THEME


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_dashboard_command() -> None:
    command = launch.dashboard_command("0.0.0.0", 8600)
    assert command[:4] == [sys.executable, "-m", "revintel.ui.server", str(launch.ASGI_SCRIPT)]
    assert launch.APP_SCRIPT.is_file() and launch.ASGI_SCRIPT.is_file()
    flags = " ".join(command[4:])
    for expected in (
        "--server.port 8600",
        "--server.address 0.0.0.0",
        "--server.headless true",
        "--browser.gatherUsageStats false",
        f"--theme.primaryColor={THEME['primaryColor']}",
        "--theme.backgroundColor=#FFFFFF",
        "--theme.font=sans-serif",
    ):
        assert expected in flags


def test_dashboard_env_reproduces_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(home=tmp_path / "home", warehouse_url=None, database_url=None)
    base = {"PATH": "/usr/bin", "REVINTEL_WAREHOUSE_URL": "duckdb:///elsewhere.db"}
    env = launch.dashboard_env(settings, base)
    assert env["PATH"] == "/usr/bin"
    assert env["REVINTEL_HOME"] == str(tmp_path / "home")
    assert "REVINTEL_WAREHOUSE_URL" not in env  # the settings say default, not the shell's
    # The dashboard process, reading this environment, gets the same settings.
    monkeypatch.setenv("REVINTEL_CONFIG", str(tmp_path / "none.toml"))
    for name in ("REVINTEL_HOME", "REVINTEL_WAREHOUSE_URL", "REVINTEL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        if name.startswith("REVINTEL_"):
            monkeypatch.setenv(name, value)
    assert load_settings() == settings

    with_urls = Settings(
        home=tmp_path, warehouse_url="duckdb:///w.db", database_url="sqlite:////tmp/a.db"
    )
    env = launch.dashboard_env(with_urls, {})
    assert env["REVINTEL_WAREHOUSE_URL"] == "duckdb:///w.db"
    assert env["REVINTEL_DATABASE_URL"] == "sqlite:////tmp/a.db"


def test_local_url() -> None:
    assert launch.local_url("127.0.0.1", 8501) == "http://127.0.0.1:8501"
    assert launch.local_url("0.0.0.0", 8501) == "http://127.0.0.1:8501"
    assert launch.local_url("::", 8501) == "http://[::1]:8501"
    assert launch.local_url("dash.example.com", 80) == "http://dash.example.com:80"


class _Spawned:
    """Records the processes ``run_dashboard`` starts."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []
        self._popen = subprocess.Popen

    def __call__(self, *args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        process: subprocess.Popen[bytes] = self._popen(*args, **kwargs)
        self.processes.append(process)
        return process


def test_starts_streamlit_prints_the_url_opens_the_browser_and_stops_on_ctrl_c(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spawned = _Spawned()
    monkeypatch.setattr(launch.subprocess, "Popen", spawned)
    opened: list[str] = []

    def open_then_ctrl_c(url: str) -> bool:
        opened.append(url)
        raise KeyboardInterrupt  # the user presses Ctrl-C once the dashboard is up

    monkeypatch.setattr(launch.webbrowser, "open", open_then_ctrl_c)
    handler_before = signal.getsignal(signal.SIGTERM)
    port = free_port()
    settings = Settings(home=tmp_path, warehouse_url=None, database_url=None)
    try:
        code = launch.run_dashboard(settings, host="127.0.0.1", port=port, open_browser=True)
    finally:
        for process in spawned.processes:
            if process.poll() is None:
                process.kill()
    assert code == 0
    assert f"revintel dashboard: http://127.0.0.1:{port}" in capsys.readouterr().out
    assert opened == [f"http://127.0.0.1:{port}"]
    [process] = spawned.processes
    assert process.poll() is not None  # Streamlit was stopped
    assert signal.getsignal(signal.SIGTERM) == handler_before


def test_returns_the_exit_code_of_a_dashboard_that_fails_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        launch,
        "dashboard_command",
        lambda host, port: [sys.executable, "-c", "raise SystemExit(3)"],
    )
    monkeypatch.setattr(launch.webbrowser, "open", lambda url: pytest.fail("browser opened"))
    settings = Settings(home=tmp_path, warehouse_url=None, database_url=None)
    assert launch.run_dashboard(settings, port=free_port()) == 3
    assert "revintel dashboard:" not in capsys.readouterr().out
