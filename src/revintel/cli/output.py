"""Printing results as a table, JSON or CSV (every command that prints results takes --format).

CSV is written by :func:`revintel.core.csv_export.to_csv`: text that a spreadsheet would read as a
formula (``=``, ``+``, ``-``, ``@``...) gets a leading single quote; numbers stay numbers.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table

from revintel.core import formatting
from revintel.core.csv_export import to_csv


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return str(value)


def emit(
    data: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    fmt: OutputFormat,
    *,
    title: str | None = None,
    rows_key: str | None = None,
) -> None:
    """Print ``data`` (a list of rows, or one object) in the chosen format.

    For an object, ``rows_key`` names the list of rows a table or CSV shows; JSON prints it whole.
    """
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(data, default=_jsonable, indent=2) + "\n")
        return
    rows: Sequence[Mapping[str, Any]] = (
        (data[rows_key] if rows_key else [data]) if isinstance(data, Mapping) else data
    )
    columns = list(rows[0].keys()) if rows else []
    if fmt is OutputFormat.csv:
        # Text a spreadsheet would read as a formula is escaped (revintel.core.csv_export).
        sys.stdout.write(to_csv(rows, columns))
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row[c] is None else _cell(row[c]) for c in columns))
    Console().print(table)


def percent(fraction: float | None, digits: int = 1) -> str:
    """A share for people: ``0.0363`` → ``3.6%``; undefined → ``n/a``. Every percentage the CLI
    prints goes through here (:func:`revintel.core.formatting.percent`, as the dashboard's); a
    value already in percent (a MAPE of 3.63) is divided by 100 first."""
    return formatting.percent(fraction, digits, missing="n/a")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    return str(value)
