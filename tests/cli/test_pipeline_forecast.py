"""``revintel pipeline forecast|backtest|train`` on a synthetic deal company (docs/pipeline.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revintel.cli.app import app

from ..pipeline.forecast_company import loaded_deal_home

runner = CliRunner()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(loaded_deal_home(tmp_path_factory.mktemp("forecast-cli")))


def test_backtest_json_is_a_list_of_method_horizon_accuracy(home: str) -> None:
    result = runner.invoke(app, ["pipeline", "backtest", "--home", home, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {"method", "horizon_days", "mape", "bias", "coverage_80"} <= set(rows[0])
    assert {r["method"] for r in rows} >= {"naive", "stage_weighted", "probability_weighted"}
    assert {r["horizon_days"] for r in rows} == {30, 60, 90}
    table = runner.invoke(app, ["pipeline", "backtest", "--home", home])
    assert table.exit_code == 0 and "probability_weighted" in table.stdout


def test_train_json_reports_auc_brier_and_oracle(home: str) -> None:
    result = runner.invoke(app, ["pipeline", "train", "--home", home, "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert 0.5 < out["roc_auc"] <= 1 and 0 < out["brier"] < 0.25
    assert out["oracle_auc"] is not None


def test_forecast_csv_has_a_row_per_period_and_method(home: str) -> None:
    result = runner.invoke(
        app, ["pipeline", "forecast", "--home", home, "--months", "2", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("period,method,forecast,low_80,high_80")
    assert len(lines) == 1 + (2 + 3) * 4  # 2 months + 3 windows, 4 methods each


def test_errors_are_printed_without_a_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "revintel", "pipeline", "backtest", "--home", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "no deals are loaded" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
    bad = runner.invoke(app, ["pipeline", "forecast", "--home", str(tmp_path), "--months", "9"])
    assert bad.exit_code != 0 and "--months" in bad.output
