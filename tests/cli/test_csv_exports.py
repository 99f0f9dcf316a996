"""``--format csv`` escapes text a spreadsheet would run as a formula; numbers stay numbers.

The health demo company (``tests/health/demo.py``) with one account renamed to a formula.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from revintel.cli import app
from revintel.cli.output import OutputFormat, emit
from revintel.data.generator import GeneratedCompany, write_company
from tests.health.demo import company, settings_for

EVIL = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tables = {n: t for n, t in company().tables.items() if t.num_rows}
    accounts = tables["accounts"]
    names = accounts["account_name"].to_pylist()
    names[0] = EVIL
    index = accounts.schema.get_field_index("account_name")
    tables["accounts"] = accounts.set_column(index, "account_name", pa.array(names, pa.string()))
    files = tmp_path_factory.mktemp("evil-files")
    write_company(GeneratedCompany(tables=tables, truth={}), files, "parquet")
    home = tmp_path_factory.mktemp("evil") / "home"
    ctx = AppContext(settings_for(home))
    try:
        load_paths(ctx, [files / f"{n}.parquet" for n in tables], source="test")
    finally:
        ctx.close()
    assert pc.any(pc.equal(tables["accounts"]["account_name"], EVIL)).as_py()
    return home


def _run(*args: str | Path) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def test_health_score_csv_escapes_a_formula_in_an_account_name(home: Path) -> None:
    rows = json.loads(_run("health", "score", "--home", home, "--format", "json"))
    evil = next(r for r in rows if r.get("account_name") == EVIL)
    text = _run("health", "score", "--home", home, "--format", "csv")
    table = list(csv.DictReader(io.StringIO(text)))
    row = next(r for r in table if r["account_id"] == evil["account_id"])
    assert row["account_name"] == "'" + EVIL
    assert not any(v.startswith("=") for r in table for v in r.values())
    assert float(row["health_score"]) == pytest.approx(evil["health_score"])


def test_every_csv_of_the_cli_is_written_by_the_one_export_function(capsys) -> None:
    emit([{"name": EVIL, "change": -1.5, "pct": "-0.25", "who": "@ana"}], OutputFormat.csv)
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows == [["name", "change", "pct", "who"], ["'" + EVIL, "-1.5", "-0.25", "'@ana"]]
