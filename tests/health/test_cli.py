"""``revintel health score|summary|backtest|config`` on the demo company."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from revintel.cli import app
from revintel.health.service import InvalidHealthOption
from tests.health.demo import demo_home

REQUIRED = {"account_id", "health_score", "tier", "playbook", "reason", "engagement",
            "sentiment", "support", "arr", "partial"}  # fmt: skip


@pytest.fixture(scope="module")
def home() -> str:
    return str(demo_home())


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, ["health", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_score_json_and_csv(home: str) -> None:
    rows = json.loads(_run("score", "--home", home, "--format", "json"))
    assert rows and set(rows[0]) >= REQUIRED
    scores = [r["health_score"] for r in rows]
    assert scores == sorted(scores)
    table = list(csv.DictReader(io.StringIO(_run("score", "--home", home, "-f", "csv"))))
    assert [r["account_id"] for r in table] == [r["account_id"] for r in rows]
    month = rows[0]["month"]
    earlier = json.loads(_run("score", "--home", home, "-f", "json", "--month", "2024-01"))
    assert {r["month"] for r in earlier} == {"2024-01"} != {month}
    crit = json.loads(_run("score", "--home", home, "-f", "json", "--tier", "Critical"))
    assert crit and {r["tier"] for r in crit} == {"Critical"}


def test_score_table_and_bad_month(home: str) -> None:
    assert "Account health" in _run("score", "--home", home)
    result = CliRunner().invoke(app, ["health", "score", "--home", home, "--month", "1990-01"])
    assert result.exit_code != 0 and isinstance(result.exception, InvalidHealthOption)


def test_summary_and_backtest(home: str) -> None:
    summary = json.loads(_run("summary", "--home", home, "-f", "json"))
    assert summary["capital_at_risk"] == pytest.approx(
        summary["arr_by_tier"]["At Risk"] + summary["arr_by_tier"]["Critical"]
    )
    assert "capital at risk" in _run("summary", "--home", home)
    result = json.loads(_run("backtest", "--home", home, "-f", "json"))
    assert 0.5 < result["auc_current"] <= 1 and result["months"]
    assert "AUC, current weights" in _run("backtest", "--home", home)
    assert "[weights]" in _run("config", "--home", home)
