"""``revintel attribution roi`` and ``revintel attribution budget`` on a company whose channels
follow planted curves (tests/attribution/roi_data.py)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revintel.attribution.budget import InfeasibleBudget
from revintel.attribution.models import UnknownModel
from revintel.attribution.service.roi import InvalidBudgetRequest
from revintel.cli.app import app
from tests.attribution.roi_data import CURVES, MONTHS, conversions_of, load_company, spend_table

runner = CliRunner()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(load_company(tmp_path_factory.mktemp("cli_roi")))


def test_roi_json_has_every_figure_per_model(home: str) -> None:
    args = ["attribution", "roi", "--home", home, "-m", "last_touch", "-m", "linear"]
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["models"] == ["last_touch", "linear"]
    assert out["gross_margin"] == 0.75
    spend = spend_table()
    search = [r for r in out["rows"] if r["channel"] == "Search"]
    assert [r["model"] for r in search] == ["last_touch", "linear"]
    n = sum(conversions_of("Search", spend[(m, "Search")]) for m in MONTHS)
    cost = sum(spend[(m, "Search")] for m in MONTHS)
    assert search[0]["cac"] == pytest.approx(cost / n)
    assert search[0]["roi"] == pytest.approx((n * 100.0 * 0.75 - cost) / cost)
    direct = next(r for r in out["rows"] if r["channel"] == "Direct")
    assert direct["roi"] is None and direct["cac"] is None


def test_roi_table_and_csv(home: str) -> None:
    result = runner.invoke(app, ["attribution", "roi", "--home", home, "-m", "markov"])
    assert result.exit_code == 0, result.output
    assert "Channel ROI" in result.stdout and "gross margin 75.0%" in result.stdout
    result = runner.invoke(
        app, ["attribution", "roi", "--home", home, "-m", "markov", "--format", "csv"]
    )
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["channel"] for r in rows} == {*CURVES, "Direct"}
    assert set(rows[0]) >= {"model", "channel", "spend", "cac", "roas", "roi", "vs_last_touch"}


def test_budget_json_sums_to_the_total_within_bounds(home: str) -> None:
    args = ["attribution", "budget", "--home", home, "--total", "9000", "--bound", "0.3"]
    result = runner.invoke(app, [*args, "--format", "json", "--bootstrap", "50"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["label"] == "Model-based suggestion" and out["total"] == 9000
    assert round(sum(c["suggested"] for c in out["channels"]) * 100) == 900_000
    for c in out["channels"]:
        assert c["lower"] - 0.01 <= c["suggested"] <= c["upper"] + 0.01
        assert c["b"] == pytest.approx(CURVES[c["channel"]][1], abs=0.03)
    assert out["gain_low"] <= out["gain"] <= out["gain_high"]


def test_budget_table_says_what_it_rests_on(home: str) -> None:
    result = runner.invoke(app, ["attribution", "budget", "--home", home, "--bootstrap", "20"])
    assert result.exit_code == 0, result.output
    assert "Model-based suggestion" in result.stdout
    assert "2024-01 to 2024-12 (12 months)" in result.stdout
    assert "90% bootstrap interval" in result.stdout


def test_bad_options_are_named(home: str) -> None:
    result = runner.invoke(app, ["attribution", "budget", "--home", home, "--total", "1"])
    assert isinstance(result.exception, InfeasibleBudget)
    assert "expected between" in str(result.exception)
    result = runner.invoke(app, ["attribution", "budget", "--home", home, "--bound", "2"])
    assert isinstance(result.exception, InvalidBudgetRequest)
    assert "bound" in str(result.exception)
    result = runner.invoke(app, ["attribution", "roi", "--home", home, "-m", "magic"])
    assert isinstance(result.exception, UnknownModel)
    result = runner.invoke(app, ["attribution", "roi", "--home", home, "--from", "2024-13-01"])
    assert isinstance(result.exception, InvalidBudgetRequest)
    assert "--from" in str(result.exception)


def test_roi_without_spend_table_says_which_table(tmp_path: Path) -> None:
    result = runner.invoke(app, ["attribution", "roi", "--home", str(tmp_path / "none")])
    assert result.exit_code != 0
    assert "channel_spend" in str(result.exception)
