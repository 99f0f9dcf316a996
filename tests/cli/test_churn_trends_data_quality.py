"""``revintel churn trends`` and ``revintel data-quality`` on the trained churn home (read-only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revintel.app.context import AppContext
from revintel.app.retention import risk_trends as R
from revintel.cli import app
from tests.conftest import isolated_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("REVINTEL_HOME", "REVINTEL_WAREHOUSE_URL", "REVINTEL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REVINTEL_CONFIG", str(tmp_path / "no-such-revintel.toml"))


def test_churn_trends_json_and_table(churn_home: Path) -> None:
    result = runner.invoke(
        app, ["churn", "trends", "--months", "6", "--format", "json", "--home", str(churn_home)]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    ctx = AppContext(isolated_settings(churn_home))
    try:
        expected = R.risk_trends(ctx, 6)
    finally:
        ctx.close()
    assert [m["month"] for m in body["series"]] == [m.month for m in expected.series]
    assert body["next_quarter"]["expected_customers"] == pytest.approx(
        expected.next_quarter.expected_customers
    )
    table = runner.invoke(app, ["churn", "trends", "--months", "6", "--home", str(churn_home)])
    assert table.exit_code == 0, table.output
    assert "Expected churn" in table.stdout and expected.series[-1].month in table.stdout
    bad = runner.invoke(app, ["churn", "trends", "--months", "1", "--home", str(churn_home)])
    assert bad.exit_code != 0 and "--months" in bad.output


def test_data_quality_json(churn_home: Path) -> None:
    result = runner.invoke(app, ["data-quality", "--format", "json", "--home", str(churn_home)])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert {"missing", "freshness", "outliers", "duplicates", "features"} <= set(body)
    assert any(f["table"] == "customers" for f in body["freshness"])
    table = runner.invoke(app, ["data-quality", "--home", str(churn_home)])
    assert table.exit_code == 0 and "customers" in table.stdout
