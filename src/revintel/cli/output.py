"""Printing results as a table, JSON or CSV (every command that prints results takes --format).

CSV is written by :func:`revintel.core.csv_export.to_csv`: text that a spreadsheet would read as a
formula (``=``, ``+``, ``-``, ``@``...) gets a leading single quote; numbers stay numbers.
"""

from __future__ import annotations

import json
import re
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
    keys: int = 1,
) -> None:
    """Print ``data`` (a list of rows, or one object) in the chosen format.

    For an object, ``rows_key`` names the list of rows a table or CSV shows; JSON prints it whole.
    A table wider than the terminal is printed in parts, each with the first ``keys`` columns
    (the month, the breakdown value), so that no figure is cut or wrapped.
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
    cells = [["" if row[c] is None else _cell(row[c]) for c in columns] for row in rows]
    console = Console()
    for part, shown in enumerate(_column_groups(columns, cells, console.width, keys)):
        table = Table(title=title if part == 0 else None)
        for i in shown:
            numeric = bool(cells) and all(_is_figure(r[i]) for r in cells)
            table.add_column(columns[i], no_wrap=numeric, justify="right" if numeric else "left")
        for row_cells in cells:
            table.add_row(*(row_cells[i] for i in shown))
        console.print(table)


def percent(fraction: float | None, digits: int = 1) -> str:
    """A share for people: ``0.0363`` → ``3.6%``; undefined → ``n/a``. Every percentage the CLI
    prints goes through here (:func:`revintel.core.formatting.percent`, as the dashboard's); a
    value already in percent (a MAPE of 3.63) is divided by 100 first."""
    return formatting.percent(fraction, digits, missing="n/a")


TEXT_WIDTH = 24
"""Width a text column may wrap to when a table does not fit the terminal."""


def _column_groups(
    columns: Sequence[str], cells: Sequence[Sequence[str]], width: int, keys: int
) -> list[list[int]]:
    """The columns' positions in groups whose tables fit ``width`` (each starts with the keys)."""
    needed = []
    for i, column in enumerate(columns):
        natural = max([len(column), *(len(r[i]) for r in cells)])
        figures = all(_is_figure(r[i]) for r in cells)
        # Figures keep their width; text beyond the keys may wrap at a few words a line.
        needed.append((natural if figures or i < keys else min(natural, TEXT_WIDTH)) + 3)
    key_columns = list(range(min(keys, len(columns))))
    groups: list[list[int]] = []
    current = list(key_columns)
    used = 1 + sum(needed[i] for i in key_columns)
    for i in range(len(key_columns), len(columns)):
        if used + needed[i] > width and len(current) > len(key_columns):
            groups.append(current)
            current, used = list(key_columns), 1 + sum(needed[k] for k in key_columns)
        current.append(i)
        used += needed[i]
    groups.append(current)
    return groups


_FIGURE = re.compile(r"^[+-]?\$?-?[\d,]*\.?\d+(%|x| pp|[kMB])?$")


def _is_figure(text: str) -> bool:
    """A number as a table shows it (``1,234``, ``-$1,015``, ``+9.2%``, ``5.02x``), or blank."""
    return not text or text == formatting.NULL or bool(_FIGURE.match(text))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    return str(value)
