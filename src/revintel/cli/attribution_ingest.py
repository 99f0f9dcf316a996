"""``revintel attribution flush``: append the tracking API's journalled events to the warehouse
(docs/attribution.md, Ingestion)."""

from __future__ import annotations

from typing import Any

import typer

from revintel.cli.app import context
from revintel.cli.attribution import FormatOption, HomeOption, attribution_app
from revintel.cli.output import OutputFormat, emit


@attribution_app.command()
def flush(home: HomeOption = None, fmt: FormatOption = OutputFormat.table) -> None:
    """Append the events the tracking API journalled but has not appended yet (the API does this
    every second while it runs; use this when no server runs)."""
    from revintel.attribution.service import ingestion as service

    done = service.flush_journal(context(home))
    rows: list[dict[str, Any]] = [
        {"events": step.events, **{f"{t}_rows": n for t, n in step.tables.items()}} for step in done
    ]
    if fmt is not OutputFormat.table:
        emit(rows, fmt)
        return
    total = sum(step.events for step in done)
    typer.echo(f"Appended {total:,} journalled events to the warehouse.")
    if rows:
        emit(rows, fmt)
