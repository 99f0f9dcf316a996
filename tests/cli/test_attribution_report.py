"""``revintel attribution report`` on the small attribution company
(tests/attribution/report_company.py) and on a path file: JSON fields, CSV, the options, errors."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revintel.attribution.credit import MODELS
from revintel.cli.app import app
from revintel.core.errors import InvalidOption
from tests.attribution.report_company import report_context, write_path_file

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path) -> Iterator[str]:
    ctx = report_context(tmp_path)
    ctx.close()
    yield str(ctx.settings.home)


def _json(home: str, *args: str) -> list[dict[str, object]]:
    result = runner.invoke(
        app, ["attribution", "report", *args, "--home", home, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert isinstance(rows, list)
    return rows


def test_markov_json_has_the_named_fields(home: str) -> None:
    rows = _json(home, "--model", "markov", "--order", "2")
    assert [r["channel"] for r in rows] == ["Direct", "Email", "Paid Search"]
    for row in rows:
        assert set(row) >= {"model", "channel", "conversions", "value", "share", "removal_effect"}
        assert row["model"] == "markov"
        assert 0 <= float(row["removal_effect"]) <= 1  # type: ignore[arg-type]
    assert sum(float(r["conversions"]) for r in rows) == pytest.approx(3.0)  # type: ignore[arg-type]
    assert sum(float(r["value"]) for r in rows) == pytest.approx(350.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("model", MODELS)
def test_each_model_conserves(home: str, model: str) -> None:
    rows = _json(home, "--model", model)
    assert {r["model"] for r in rows} == {model}
    assert sum(float(r["conversions"]) for r in rows) == pytest.approx(3.0)  # type: ignore[arg-type]
    assert (rows[0]["removal_effect"] is not None) == (model == "markov")


def test_all_models_and_the_options(home: str) -> None:
    rows = _json(home)
    assert {r["model"] for r in rows} == set(MODELS)
    february = _json(home, "--model", "last_touch", "--from", "2024-02-01", "--to", "2024-02-28")
    assert {r["channel"]: r["conversions"] for r in february}["Email"] == 1.0
    assert sum(float(r["conversions"]) for r in february) == 1.0  # type: ignore[arg-type]
    windowed = _json(home, "--model", "linear", "--window", "2", "--conversion-type", "paid")
    assert sum(float(r["conversions"]) for r in windowed) == 2.0  # type: ignore[arg-type]


def test_csv_and_table(home: str) -> None:
    result = runner.invoke(
        app, ["attribution", "report", "-m", "markov", "--home", home, "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 3 and rows[0]["model"] == "markov" and rows[0]["removal_effect"]
    table = runner.invoke(app, ["attribution", "report", "-m", "markov", "--home", home])
    assert table.exit_code == 0, table.output
    assert "Paid Search" in table.stdout and "3 conversions" in table.stdout


def test_path_file(home: str, tmp_path: Path) -> None:
    path = write_path_file(tmp_path)
    rows = _json(home, "--paths", str(path), "--order", "3")
    assert "time_decay" not in {r["model"] for r in rows}
    markov = [r for r in rows if r["model"] == "markov"]
    assert sum(float(r["conversions"]) for r in markov) == pytest.approx(6.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--model", "magic"], "model"),
        (["--order", "5"], "markov_order"),
        (["--from", "2024-13-01"], "--from"),
        (["--from", "2024-03-01", "--to", "2024-02-01"], "end_date"),
        (["--conversion-type", "refund"], "conversion_type"),
    ],
)
def test_errors_name_the_option(home: str, args: list[str], field: str) -> None:
    result = runner.invoke(app, ["attribution", "report", *args, "--home", home])
    assert result.exit_code != 0
    assert isinstance(result.exception, InvalidOption)
    assert field in str(result.exception)
