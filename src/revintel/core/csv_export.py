"""CSV exports that a spreadsheet opens as data, never as formulas.

Every CSV revintel writes for people (``--format csv`` of every command, ``revintel churn score
--out``, the dashboard's downloads and CRM exports) goes through :func:`to_csv`. A text cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be read by Excel,
LibreOffice or Google Sheets as a formula (``=HYPERLINK(...)``, ``=cmd|...``): it is written
with a single quote in front, as OWASP's CSV injection guidance advises
(https://owasp.org/www-community/attacks/CSV_Injection). Numbers stay numbers: a number (``-1.5``,
and a text cell that is exactly a decimal number, such as ``"-0.25"``) is written unchanged.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:  # imported where used: `revintel --help` does not load the data stack
    import pandas as pd
    import polars as pl

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP)."""

_NUMBER = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"
_NUMBER_RE = re.compile(_NUMBER)
_FORMULA_START = "^[=+\\-@\t\r]"


def safe_cell(value: Any) -> Any:
    """``value``, or ``"'" + value`` for text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER_RE.match(value):
        return "'" + value
    return value


def _safe_polars(frame: pl.DataFrame) -> pl.DataFrame:
    import polars as pl

    text = [
        name
        for name, dtype in frame.schema.items()
        if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)
    ]
    if text:
        frame = frame.with_columns(pl.col(text).cast(pl.String))
        frame = frame.with_columns(
            pl.when(pl.col(name).str.contains(_FORMULA_START) & ~pl.col(name).str.contains(_NUMBER))
            .then(pl.lit("'") + pl.col(name))
            .otherwise(pl.col(name))
            .alias(name)
            for name in text
        )
    return frame.rename({name: safe_cell(name) for name in frame.columns})


def _safe_pandas(frame: pd.DataFrame) -> pd.DataFrame:
    from pandas.api.types import is_numeric_dtype

    frame = frame.copy()
    for name in frame.columns:
        # Text (object, string or category columns); a numeric or date column holds no text.
        if not is_numeric_dtype(frame[name]) and frame[name].dtype.kind not in "mM":
            frame[name] = frame[name].astype(object).map(safe_cell)
    frame.columns = [safe_cell(name) if isinstance(name, str) else name for name in frame.columns]
    return frame


def to_csv(
    data: pl.DataFrame | pd.DataFrame | Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
) -> str:
    """``data`` as CSV text with a header, every formula-like text cell (and header) escaped.

    ``data`` is a polars or pandas DataFrame, or rows (mappings: ``columns`` defaults to the
    first row's keys; a missing or None value is an empty cell). Frames are written by their own
    library (so dates and numbers read as they always have); rows by :mod:`csv`.
    """
    library = type(data).__module__.split(".")[0]
    if library == "polars":
        polars_frame = cast("pl.DataFrame", data)
        if columns is not None:
            polars_frame = polars_frame.select(columns)
        return _safe_polars(polars_frame).write_csv()
    if library == "pandas":
        pandas_frame = cast("pd.DataFrame", data)
        if columns is not None:
            pandas_frame = pandas_frame[list(columns)]
        return str(_safe_pandas(pandas_frame).to_csv(index=False))
    assert isinstance(data, Sequence)
    names = list(columns) if columns is not None else (list(data[0].keys()) if data else [])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([safe_cell(name) for name in names])
    for row in data:
        writer.writerow([safe_cell(row.get(name)) for name in names])
    return buffer.getvalue()


def to_csv_bytes(
    data: pl.DataFrame | pd.DataFrame | Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
) -> bytes:
    """:func:`to_csv` as UTF-8 bytes (what a download button serves)."""
    return to_csv(data, columns).encode("utf-8")
