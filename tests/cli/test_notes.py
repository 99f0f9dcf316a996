"""``revintel notes``: add, list, edit, delete, follow-ups and export from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revintel.app.context import AppContext
from revintel.cli import app

runner = CliRunner()


@pytest.fixture
def home(loaded_context: AppContext, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    for name in ("REVINTEL_WAREHOUSE_URL", "REVINTEL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REVINTEL_CONFIG", str(tmp_path / "no-such-revintel.toml"))
    monkeypatch.setenv("USER", "carol")
    return str(loaded_context.settings.home)


def _json(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_notes_from_the_command_line(home: str) -> None:
    added = _json(
        "notes", "add", "C004", "--text", "Payment failed: called", "--kind", "call",
        "--outcome", "Card updated", "--follow-up", "2020-05-01", "--home", home,
    )  # fmt: skip
    assert (added["author"], added["kind"], added["follow_up"]) == ("carol", "call", "2020-05-01")

    table = runner.invoke(app, ["notes", "list", "C004", "--home", home])
    assert table.exit_code == 0 and "Payment failed: called" in table.output

    due = _json("notes", "follow-ups", "--owner", "carol", "--home", home)
    assert [f["note_id"] for f in due["follow_ups"]] == [added["note_id"]]

    other = runner.invoke(
        app, ["notes", "edit", str(added["note_id"]), "--text", "x", "--author", "dan",
              "--home", home],
    )  # fmt: skip
    assert other.exit_code != 0
    assert "only its author may edit" in str(other.exception)

    done = _json("notes", "edit", str(added["note_id"]), "--done", "--home", home)
    assert done["follow_up_done"] is True
    assert _json("notes", "follow-ups", "--home", home)["count"] == 0

    exported = json.loads(runner.invoke(app, ["notes", "export", "C004", "--home", home]).output)
    assert exported["account"]["customer_id"] == "C004"
    assert exported["notes"][0]["outcome"] == "Card updated"

    deleted = runner.invoke(app, ["notes", "delete", str(added["note_id"]), "--home", home])
    assert deleted.exit_code == 0 and "Deleted note" in deleted.output
    assert _json("notes", "list", "C004", "--home", home)["total"] == 0


def test_a_bad_date_or_account_is_a_clear_error(home: str) -> None:
    bad = runner.invoke(
        app, ["notes", "add", "C001", "--text", "x", "--follow-up", "soon", "--home", home]
    )
    assert bad.exit_code != 0 and "expected a date YYYY-MM-DD" in str(bad.exception)
    missing = runner.invoke(app, ["notes", "list", "C404", "--home", home])
    assert missing.exit_code != 0 and "C404" in str(missing.exception)
