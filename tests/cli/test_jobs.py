"""``revintel jobs list|run|history``, ``revintel serve --scheduler`` and ``revintel scheduler``
as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revintel.app.context import AppContext
from revintel.cli import app
from tests.api.serving import serving

runner = CliRunner()


@pytest.fixture
def home(loaded_context: AppContext, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    for name in ("REVINTEL_WAREHOUSE_URL", "REVINTEL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REVINTEL_CONFIG", str(tmp_path / "no-such-revintel.toml"))
    return str(loaded_context.settings.home)


def test_jobs_from_the_command_line(home: str) -> None:
    listed = runner.invoke(app, ["jobs", "list", "--home", home])
    assert listed.exit_code == 0, listed.output
    assert "score_customers" in listed.output and "0 2 * * *" in listed.output

    failed = runner.invoke(app, ["jobs", "run", "evaluate_alerts", "--home", home, "-f", "json"])
    run = json.loads(failed.output)
    assert run["trigger"] == "manual" and run["job"] == "evaluate_alerts"
    # The small company has no churn predictions: the run fails with that reason, recorded.
    if run["status"] == "failed":
        assert failed.exit_code == 1 and run["error"]
    history = runner.invoke(app, ["jobs", "history", "--job", "evaluate_alerts", "--home", home])
    assert history.exit_code == 0 and "evaluate_alerts" in history.output
    unknown = runner.invoke(app, ["jobs", "run", "nightly", "--home", home])
    assert unknown.exit_code != 0 and "expected one of" in str(unknown.exception)


def test_a_bad_schedule_stops_the_scheduler_with_its_message(home: str) -> None:
    Path(home, "retention.toml").write_text('[jobs.schedules]\nretrain = "every day"\n')
    result = runner.invoke(app, ["scheduler", "--home", home])
    assert result.exit_code != 0
    assert "job 'retrain': 'every day' is not a crontab schedule" in str(result.exception)


def test_serve_with_the_scheduler_starts_and_stops_cleanly(home: str, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "revintel", "serve", "--port", "{port}", "--scheduler"]
    with serving([*command, "--home", home], tmp_path) as served:
        with urllib.request.urlopen(f"{served.url}/api/v1/jobs", timeout=30) as answer:
            body = json.loads(answer.read())
        assert body["scheduler_running"] is True
        os.killpg(served.process.pid, signal.SIGTERM)
        # Uvicorn ends by re-raising the signal it stopped on: -SIGTERM, after a clean shutdown.
        assert served.process.wait(timeout=15) in (0, -signal.SIGTERM), served.text()
    log = served.text()
    assert "scheduler started" in log and "scheduler stopped" in log
    assert log.index("scheduler stopped") < log.index("Application shutdown complete")
    assert "Traceback" not in log


def test_the_foreground_scheduler_stops_on_sigterm(home: str, tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REVINTEL_")}
    environ["REVINTEL_CONFIG"] = str(tmp_path / "absent.toml")
    process = subprocess.Popen(
        [sys.executable, "-m", "revintel", "scheduler", "--home", home],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=environ,
        text=True,
    )
    assert process.stdout is not None
    seen = ""
    while "revintel scheduler" not in seen:  # its banner, after any warning the start printed
        line = process.stdout.readline()
        assert line, f"the scheduler exited before starting:\n{seen}"
        seen += line
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    # Read through the same buffer as readline (communicate() reads the pipe beneath it and
    # would miss what readline already buffered).
    rest = process.stdout.read()
    process.wait(timeout=60)
    assert process.returncode == 0, seen + rest
    assert "score_customers" in seen + rest and "Scheduler stopped." in rest
