"""``revintel pipeline summary|by-stage|won|win-drivers|competitors|scenario`` on the small deal
company: the JSON shapes the issue names, CSV, and errors printed without a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revintel.cli.app import app
from revintel.core.errors import RevintelError
from tests.pipeline.deal_company import deal_context

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path) -> Iterator[str]:
    ctx = deal_context(tmp_path)
    ctx.close()
    yield str(ctx.settings.home)


def _json(home: str, *args: str) -> object:
    result = runner.invoke(app, ["pipeline", *args, "--home", home, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_summary_json_has_the_named_fields(home: str) -> None:
    out = _json(home, "summary")
    assert isinstance(out, dict)
    assert out["deal_count"] == 4 and out["open_pipeline"] == 20600.0
    assert out["win_rate"] == 0.5 and out["avg_deal_size"] == 5150.0
    assert out["weighted_forecast_90d"] > 0


def test_by_stage_json_and_filters(home: str) -> None:
    rows = _json(home, "by-stage", "--owner", "Ben")
    assert isinstance(rows, list)
    by = {r["stage"]: r for r in rows}
    assert set(rows[0]) >= {"stage", "deals", "amount", "weighted_amount"}
    assert by["Negotiation"]["deals"] == 1 and by["Proposal"]["deals"] == 0  # D5 is Ana's


def test_won_by_competitor_csv(home: str) -> None:
    result = runner.invoke(
        app, ["pipeline", "won", "--by", "competitor", "--home", home, "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    header, *lines = result.stdout.strip().splitlines()
    assert header.startswith("value,closed,won")
    assert len(lines) == 3


def test_competitors_and_scenario_json(home: str) -> None:
    report = _json(home, "competitors")
    assert isinstance(report, dict)
    assert {r["competitor"] for r in report["competitors"]} == {
        "(none)", "Orbitly", "Vantage Cloud"
    }  # fmt: skip
    out = _json(home, "scenario", "--win-rate-increase", "0.1", "--pipeline-growth", "0.15")
    assert isinstance(out, dict)
    assert out["projected"]["pipeline"] == pytest.approx(20600 * 1.15)
    assert set(out["distribution"]["projected"]["percentiles"]) == {
        "p5",
        "p10",
        "p50",
        "p90",
        "p95",
    }


def test_win_drivers_on_too_few_deals_is_a_clear_error(home: str) -> None:
    result = runner.invoke(app, ["pipeline", "win-drivers", "--home", home])
    assert result.exit_code != 0
    assert isinstance(result.exception, RevintelError)
    assert "at least 30 closed deals" in str(result.exception)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["summary", "--stage", "Done"], "stage 'Done'"),
        (["scenario", "--win-rate-increase", "-2"], "win_rate_increase"),
        (["won", "--by", "plan"], "by 'plan'"),
        (["by-stage", "--from", "yesterday"], "from 'yesterday'"),
    ],
)
def test_bad_options_name_the_option(home: str, args: list[str], expected: str) -> None:
    result = runner.invoke(app, ["pipeline", *args, "--home", home])
    assert result.exit_code != 0
    assert isinstance(result.exception, RevintelError)
    assert expected in str(result.exception)
