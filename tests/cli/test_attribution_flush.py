"""``revintel attribution flush``: journalled events reach the warehouse without a server."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from revintel.app.context import AppContext
from revintel.attribution.service import ingestion
from revintel.cli.app import app

runner = CliRunner()


def test_flush_appends_what_the_journal_holds_once(loaded_context: AppContext) -> None:
    home = str(loaded_context.settings.home)
    before = loaded_context.warehouse.row_counts().get("touchpoints", 0)
    body = [
        {"visitor_id": "v-1", "channel": "Email", "timestamp": "2025-01-01T10:00:00Z"},
        {"visitor_id": "v-1", "channel": "Paid Search", "timestamp": "2025-01-02T10:00:00Z"},
        {"customer_id": "C001", "channel": "Referral", "timestamp": "2025-01-03T10:00:00Z"},
    ]
    ingestion.ingest(loaded_context, "touchpoints", body)  # journalled, no server to append it

    result = runner.invoke(app, ["attribution", "flush", "--home", home, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"events": 3, "touchpoints_rows": 3}]
    loaded_context.refresh()
    assert loaded_context.warehouse.row_counts()["touchpoints"] == before + 3

    again = runner.invoke(app, ["attribution", "flush", "--home", home, "--format", "json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == []
    table = runner.invoke(app, ["attribution", "flush", "--home", home])
    assert table.exit_code == 0, table.output
    assert "Appended 0 journalled events" in table.output


def test_flush_without_a_journal_appends_nothing(empty_context: AppContext) -> None:
    home = str(empty_context.settings.home)
    result = runner.invoke(app, ["attribution", "flush", "--home", home, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
