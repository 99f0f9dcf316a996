"""``revintel clv``: fit-sbg JSON against the paper, report and rfm on the small company."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from revintel.app.context import AppContext
from revintel.cli.app import app
from revintel.clv.sbg import InvalidSurvivors
from revintel.clv.service import InvalidClvOption
from revintel.core.errors import OutsideTheData

runner = CliRunner()


def test_fit_sbg_json() -> None:
    survivors = "1000,631,468,382,326,289,262,241"
    result = runner.invoke(
        app, ["clv", "fit-sbg", "--survivors", survivors, "--horizon", "12", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["alpha"] == pytest.approx(0.704, abs=0.01)
    assert out["beta"] == pytest.approx(1.182, abs=0.01)
    assert out["log_likelihood"] == pytest.approx(-1680.3, abs=0.5)
    assert len(out["projected_survivors"]) == 13


def test_fit_sbg_rejects_bad_input() -> None:
    result = runner.invoke(app, ["clv", "fit-sbg", "--survivors", "1000,1200"])
    assert result.exit_code != 0
    assert isinstance(result.exception, InvalidSurvivors)
    assert "--survivors[1]" in str(result.exception)


def test_report_and_rfm(loaded_context: AppContext) -> None:
    home = str(loaded_context.settings.home)
    result = runner.invoke(
        app, ["clv", "report", "--by", "plan", "--format", "json", "--home", home]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["by"] == "plan" and out["overall"]["customers"] >= 1
    result = runner.invoke(app, ["clv", "rfm", "--format", "csv", "--home", home])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("segment,customers")
    result = runner.invoke(app, ["clv", "report", "--by", "colour", "--home", home])
    assert isinstance(result.exception, InvalidClvOption) and "colour" in str(result.exception)


def test_rfm_as_of_past_the_data_is_refused(loaded_context: AppContext) -> None:
    home = str(loaded_context.settings.home)
    result = runner.invoke(app, ["clv", "rfm", "--as-of", "2099-01-01", "--home", home])
    assert result.exit_code != 0
    assert isinstance(result.exception, OutsideTheData)
    assert "as_of: expected a day from" in str(result.exception)
