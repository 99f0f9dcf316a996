"""``revintel pipeline deals | deal ID | at-risk`` on the hand-computed deal book."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revintel.cli.app import app
from revintel.core.errors import InvalidOption, NotFoundError
from tests.pipeline.deals_company import deals_context

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path) -> str:
    ctx = deals_context(tmp_path)
    ctx.close()
    return str(ctx.settings.home)


def test_deals_json_and_filters(home: str) -> None:
    result = runner.invoke(app, ["pipeline", "deals", "--home", home, "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [d["deal_id"] for d in out["deals"]] == ["O1", "O3", "O2"]  # lowest score first
    assert out["deals"][0]["health_category"] == "critical"
    csv = runner.invoke(app, ["pipeline", "deals", "--home", home, "--owner", "Ben", "-f", "csv"])
    assert csv.exit_code == 0 and csv.stdout.splitlines()[1].startswith("O2,")
    bad = runner.invoke(app, ["pipeline", "deals", "--home", home, "--from", "June"])
    assert isinstance(bad.exception, InvalidOption) and "--from" in str(bad.exception)


def test_one_deal_and_an_unknown_one(home: str) -> None:
    result = runner.invoke(app, ["pipeline", "deal", "O1", "--home", home, "-f", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["health"]["health_score"] == 0.0 and len(out["timeline"]) == 3
    table = runner.invoke(app, ["pipeline", "deal", "O1", "--home", home])
    assert "Risk factors" in table.stdout and "stagnant" in table.stdout
    # Both close probabilities (in percent), as in the JSON.
    rule = out["close_probability"]["close_probability"]
    assert "close_probability_rule" in table.stdout and f"{rule:g}" in table.stdout
    missing = runner.invoke(app, ["pipeline", "deal", "NOPE", "--home", home])
    assert isinstance(missing.exception, NotFoundError)


def test_at_risk(home: str) -> None:
    result = runner.invoke(
        app, ["pipeline", "at-risk", "--home", home, "--min-deal-value", "1000", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["count"] == 1 and out["deals"][0]["id"] == "O1"
    none = runner.invoke(app, ["pipeline", "at-risk", "--home", home, "--min-deal-value", "1e6"])
    assert none.exit_code == 0 and "No at-risk deals" in none.stdout


def test_deal_value_formula_and_why_no_model(home: str) -> None:
    args = ["pipeline", "deal-value", "--home", home, "--users", "50", "--price", "29"]
    result = runner.invoke(app, [*args, "--discount", "0.15", "-f", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["predicted_deal_value"] == 14790.0 and out["model"] is None
    bad = runner.invoke(app, [*args, "--stage", "Won"])
    assert isinstance(bad.exception, InvalidOption) and "deal_stage" in str(bad.exception)
