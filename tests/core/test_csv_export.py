"""Every CSV export escapes text a spreadsheet would run as a formula; numbers stay numbers."""

from __future__ import annotations

import csv
import io
from datetime import date

import pandas as pd
import polars as pl
import pytest

from revintel.core.csv_export import safe_cell, to_csv, to_csv_bytes

EVIL = '=HYPERLINK("http://evil.example","x")'


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (EVIL, "'" + EVIL),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-", "'-"),
        # Numbers, and text that is exactly a number, are left alone.
        (-1.5, -1.5),
        (-3, -3),
        ("-1.5", "-1.5"),
        ("+2e-3", "+2e-3"),
        # Anything else is left alone.
        ("Acme = best", "Acme = best"),
        ("O'Brien", "O'Brien"),
        ("", ""),
        (None, None),
    ],
)
def test_a_cell_is_escaped_only_when_a_spreadsheet_would_read_a_formula(value, written):
    assert safe_cell(value) == written


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_rows_frames_and_headers_are_escaped_alike() -> None:
    rows = [
        {"account_name": EVIL, "arr": -1.5, "month": date(2024, 1, 31), "note": None},
        {"account_name": "Acme", "arr": 2.5, "month": date(2024, 2, 29), "note": "@here"},
    ]
    expected = [
        ["account_name", "arr", "month", "note"],
        ["'" + EVIL, "-1.5", "2024-01-31", ""],
        ["Acme", "2.5", "2024-02-29", "'@here"],
    ]
    assert _read(to_csv(rows)) == expected
    assert _read(to_csv(pl.DataFrame(rows))) == expected
    assert _read(to_csv(pd.DataFrame(rows))) == expected
    assert to_csv_bytes(rows) == to_csv(rows).encode("utf-8")
    assert _read(to_csv([{"=cmd": 1}]))[0] == ["'=cmd"]
    assert _read(to_csv(pl.DataFrame({"=cmd": [1]})))[0] == ["'=cmd"]
    assert _read(to_csv(pd.DataFrame({"=cmd": [1]})))[0] == ["'=cmd"]


def test_categorical_text_and_a_column_subset() -> None:
    frame = pl.DataFrame({"tier": ["-High", "Low"], "x": [1, 2]}).with_columns(
        pl.col("tier").cast(pl.Categorical)
    )
    assert _read(to_csv(frame, ["tier"])) == [["tier"], ["'-High"], ["Low"]]
    pandas = pd.DataFrame({"tier": pd.Categorical(["-High", "Low"]), "x": [1, 2]})
    assert _read(to_csv(pandas, ["tier"])) == [["tier"], ["'-High"], ["Low"]]
    assert to_csv([]) == "\n"


def test_no_csv_is_written_outside_the_export_function() -> None:
    """Every CSV for people goes through ``to_csv``; ``revintel.data`` writes data files (the
    demo company, staging) that are loaded back, and the PostgreSQL warehouse streams CSV to
    ``COPY``: neither is opened in a spreadsheet."""
    import re
    from pathlib import Path

    import revintel

    root = Path(revintel.__file__).parent
    writers = re.compile(r"\.write_csv\(|\.to_csv\(|csv\.writer\(|csv\.DictWriter\(|\.write_csv\b")
    found = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.py")
        if path.parts[len(root.parts)] not in ("data",)
        and path.name != "csv_export.py"
        and path.relative_to(root).as_posix() != "warehouse/postgres.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if writers.search(line)
    ]
    assert found == []
