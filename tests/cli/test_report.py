"""``revintel report executive`` writes each format, atomically, and says what is missing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revintel.app.context import AppContext
from revintel.cli import app, main

runner = CliRunner()


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("REVINTEL_HOME", "REVINTEL_WAREHOUSE_URL", "REVINTEL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REVINTEL_CONFIG", str(tmp_path / "no-such-revintel.toml"))


def test_writes_pdf_and_reports_missing_sections(
    loaded_context: AppContext, tmp_path: Path
) -> None:
    home = str(loaded_context.settings.home)
    out = tmp_path / "exec.pdf"
    result = runner.invoke(
        app, ["report", "executive", "--format", "pdf", "--out", str(out), "--home", home]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    assert not list(tmp_path.glob(".*.partial"))
    assert "— pipeline:" in result.stderr and "deals" in result.stderr
    printed = runner.invoke(app, ["report", "executive", "--format", "json", "--home", home])
    assert printed.exit_code == 0, printed.output
    figures = json.loads(printed.stdout)
    assert figures["kpis"]["mrr"]["value"] is not None


def test_a_month_outside_the_data_exits_non_zero(
    loaded_context: AppContext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = str(loaded_context.settings.home)
    argv = ["revintel", "report", "executive", "--month", "1999-01", "--home", home]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "1999-01" in err and "expected a month from" in err
    assert "Traceback" not in err
