"""``revintel attribution paths`` and ``revintel attribution journey`` on a small company with
touchpoints and conversions: JSON, CSV, the table, and errors printed without a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from revintel.cli.app import app
from revintel.core.config import Settings
from revintel.core.errors import NotFoundError, RevintelError
from tests.backends.conftest import ATTRIBUTION_TABLES, COMPANY

runner = CliRunner()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("journeys-cli")
    folder = root / "company"
    folder.mkdir()
    for name, text in {**COMPANY, **ATTRIBUTION_TABLES}.items():
        (folder / name).write_text(text)
    ctx = AppContext(Settings(home=root / "home", warehouse_url=None, database_url=None))
    load_paths(ctx, [folder], source="test")
    ctx.close()
    yield str(root / "home")


def _run(home: str, *args: str) -> str:
    result = runner.invoke(app, ["attribution", *args, "--home", home])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_paths_json_and_options(home: str) -> None:
    rows = json.loads(_run(home, "paths", "--format", "json"))
    assert {r["path"] for r in rows} >= {"Social", "Paid Search > Email > Direct"}
    assert set(rows[0]) == {"path", "journeys", "conversions", "conversion_rate", "value"}
    assert sum(r["conversions"] for r in rows) == 4
    top1 = json.loads(_run(home, "paths", "--top", "1", "--format", "json"))
    assert len(top1) == 1
    collapsed = json.loads(_run(home, "paths", "--collapse-repeats", "--format", "json"))
    assert "Social > Paid Search" in {r["path"] for r in collapsed}
    ranged = json.loads(
        _run(home, "paths", "--from", "2024-02-01", "--to", "2024-03-31", "--format", "json")
    )
    assert sum(r["journeys"] for r in ranged) == 5
    signup = json.loads(_run(home, "paths", "--conversion-type", "signup", "--format", "json"))
    assert sum(r["conversions"] for r in signup) == 2
    short = json.loads(_run(home, "paths", "--window", "30", "--format", "json"))
    assert "Email > Direct" in {r["path"] for r in short}


def test_paths_sections_as_csv_and_table(home: str) -> None:
    lengths = _run(home, "paths", "--show", "lengths", "--format", "csv").splitlines()
    assert lengths[0] == "touches,converting,non_converting,conversion_rate"
    assert lengths[1].startswith("1,1.0,3.0")
    flows = _run(home, "paths", "--show", "flows", "--format", "csv")
    assert "Paid Search,Direct,1.0,49.0" in flows
    ttc = _run(home, "paths", "--show", "time-to-convert")
    assert "Time to convert" in ttc and "median" in ttc
    table = _run(home, "paths")
    assert "Top" in table and "8 journeys, 4 conversions (50.0%)" in table


def test_journey_of_a_customer(home: str) -> None:
    data = json.loads(_run(home, "journey", "C2", "--format", "json"))
    assert [e["touchpoint_id"] or e["conversion_id"] for e in data["events"]] == [
        "T10",
        "T11",
        "V5",
    ]
    table = _run(home, "journey", "C1")
    assert "6 touches, 3 conversions" in table and "paid conversion" in table


def test_errors_name_the_option_or_the_customer(home: str) -> None:
    """The errors are kinds the command line prints on one line (revintel.__main__)."""
    bad = runner.invoke(app, ["attribution", "paths", "--from", "March", "--home", home])
    assert bad.exit_code != 0 and isinstance(bad.exception, RevintelError)
    assert "from 'March': expected a date YYYY-MM-DD" in str(bad.exception)
    unknown = runner.invoke(app, ["attribution", "journey", "nobody", "--home", home])
    assert isinstance(unknown.exception, NotFoundError)
    assert "'nobody'" in str(unknown.exception)
