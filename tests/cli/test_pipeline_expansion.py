"""``revintel pipeline expansion`` on the planted expansion company (docs/pipeline.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revintel.cli.app import app
from revintel.core.errors import OutsideTheData
from tests.pipeline.planted_home import planted_home

runner = CliRunner()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(planted_home(tmp_path_factory.mktemp("cli-expansion")))


def test_table_prints_the_ranking_and_the_lift(home: str) -> None:
    result = runner.invoke(app, ["pipeline", "expansion", "--home", home, "--limit", "3"])
    assert result.exit_code == 0, result.output
    assert "Expansion opportunities, 2023-12 (120 accounts scored)" in result.output
    assert "vs base rate" in result.output and "lift" in result.output


def test_json_and_csv(home: str) -> None:
    result = runner.invoke(
        app, ["pipeline", "expansion", "--home", home, "--format", "json", "--limit", "5"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert len(out["accounts"]) == 5 and out["backtest"]["lift"] > 2
    assert {"expansion_score", "reasons", "expected_expansion_arr"} <= set(out["accounts"][0])
    result = runner.invoke(
        app, ["pipeline", "expansion", "--home", home, "--format", "csv", "--segment", "SMB"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("account_id,account_name,segment,plan,arr,score")
    assert all(",SMB," in line for line in lines[1:])


def test_a_month_outside_the_data_is_an_error(home: str) -> None:
    result = runner.invoke(app, ["pipeline", "expansion", "--home", home, "--month", "2031-01"])
    assert result.exit_code != 0
    assert isinstance(result.exception, OutsideTheData)
    assert "expected a month from 2023-01 to 2023-12" in str(result.exception)


def test_without_data_it_names_the_missing_tables(tmp_path: Path) -> None:
    result = runner.invoke(app, ["pipeline", "expansion", "--home", str(tmp_path / "empty")])
    assert result.exit_code != 0
    assert "subscriptions" in str(result.exception)
