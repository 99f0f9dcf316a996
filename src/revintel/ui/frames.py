"""Service results shaped into the frames the Data page draws (display only, no rules)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from revintel.app.catalog import TableInfo
from revintel.app.ingest import FileReport
from revintel.core.errors import Problem
from revintel.data.schema import TableContract


def catalog_frame(tables: Sequence[TableInfo]) -> pd.DataFrame:
    """One row per canonical table: loaded, rows, last loaded, description."""
    return pd.DataFrame(
        {
            "table": [t.name for t in tables],
            "loaded": [t.loaded for t in tables],
            "rows": [t.rows if t.loaded else None for t in tables],
            "last_loaded": pd.to_datetime([t.last_loaded for t in tables], utc=True),
            "description": [t.description for t in tables],
        }
    ).astype({"rows": "Int64"})


def contract_frame(contract: TableContract) -> pd.DataFrame:
    """A table's expected columns: name, type, required, blanks allowed, values, description."""
    return pd.DataFrame(
        [
            {
                "column": c.name,
                "type": c.type,
                "required": c.required,
                "blank_ok": c.nullable,
                "values": c.expected(),
                "description": c.description,
            }
            for c in contract.columns
        ]
    )


def contract_summary(contract: TableContract) -> str:
    """E.g. "5 required, 3 optional columns · key customer_id"."""
    required = sum(c.required for c in contract.columns)
    optional = len(contract.columns) - required
    return (
        f"{required} required, {optional} optional columns · key {', '.join(contract.primary_key)}"
    )


def tables_text(tables: Mapping[str, Any]) -> str:
    """E.g. "customers 300 · payments 4,120"."""
    return " · ".join(f"{name} {int(rows):,}" for name, rows in tables.items())


def history_frame(runs: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per load, newest first: when, status, source, mode, rows per table, files."""
    rows = [
        {
            "run": run["id"],
            "started": _timestamp(run["started_at"]),
            "status": run["status"],
            "source": run["source"],
            "mode": run["mode"],
            "rows": sum(int(n) for n in (run.get("tables") or {}).values()),
            "tables": tables_text(run.get("tables") or {}),
            "files": len(run.get("files") or []),
            "message": (run.get("message") or "").splitlines()[0] if run.get("message") else "",
        }
        for run in runs
    ]
    columns = ["run", "started", "status", "source", "mode", "rows", "tables", "files", "message"]
    return pd.DataFrame(rows, columns=columns)


def file_reports_frame(
    files: Sequence[FileReport], name: Callable[[str], str] = str
) -> pd.DataFrame:
    """One row per uploaded file: its table, format, data rows and problem count."""
    return pd.DataFrame(
        [
            {
                "file": name(f.file),
                "table": f.table,
                "format": f.format,
                "rows": f.rows,
                "problems": f.problem_count,
            }
            for f in files
        ],
        columns=["file", "table", "format", "rows", "problems"],
    )


def problems_frame(problems: Sequence[Problem], name: Callable[[str], str] = str) -> pd.DataFrame:
    """Every problem: file, row, column, what is wrong, what was expected and what was found.

    ``name`` rewrites file paths in the text (the upload form shows the names the user uploaded).
    """
    return pd.DataFrame(
        [
            {
                "file": name(p.file),
                "row": p.row,
                "column": p.column,
                "problem": name(p.message),
                "expected": name(p.expected) if p.expected is not None else None,
                "got": p.got,
            }
            for p in problems
        ],
        columns=["file", "row", "column", "problem", "expected", "got"],
    ).astype({"row": "Int64"})


def _timestamp(value: str | datetime | None) -> pd.Timestamp | None:
    return None if value is None else pd.Timestamp(value)
