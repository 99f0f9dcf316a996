"""``revintel attribution report``: every model's credit per channel, side by side, with the
difference from last touch and the Markov removal effects (docs/attribution.md).

Parses the options, calls :func:`revintel.attribution.service.report.report` (or
``report_from_paths`` with ``--paths``) and prints one row per model and channel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from revintel.cli.app import context
from revintel.cli.attribution import (
    ConversionTypeOption,
    FormatOption,
    FromOption,
    HomeOption,
    ToOption,
    WindowOption,
    attribution_app,
)
from revintel.cli.output import OutputFormat, emit, percent


@attribution_app.command()
def report(
    model: Annotated[
        str,
        typer.Option(
            "--model",
            "-m",
            help="first_touch, last_touch, last_non_direct, linear, time_decay, position_based, "
            "markov, shapley, or all; several comma-separated.",
        ),
    ] = "all",
    order: Annotated[
        int | None,
        typer.Option("--order", help="Markov chain order, 1-4 (default: the settings')."),
    ] = None,
    paths: Annotated[
        Path | None,
        typer.Option(
            "--paths",
            help="Attribute this aggregated path file (path, total_conversions, optional "
            "total_conversion_value and total_null) instead of the loaded data.",
        ),
    ] = None,
    start: FromOption = None,
    end: ToOption = None,
    window: WindowOption = None,
    conversion_type: ConversionTypeOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Each model's credit per channel: conversions, value, share, removal effect (Markov)."""
    from revintel.attribution.service import report as service

    request = service.ReportRequest(
        models=service.parse_models(model),
        markov_order=order,
        start=service.parse_day(start, "--from"),
        end=service.parse_day(end, "--to"),
        window_days=window,
        conversion_type=conversion_type,
    )
    ctx = context(home)
    if paths is not None:
        result = service.report_from_paths(paths, request, ctx.settings)
    else:
        result = service.report(ctx, request)
    rows: list[dict[str, Any]] = [vars(r).copy() for r in result.rows]
    if fmt is OutputFormat.json:
        emit(rows, fmt)
        return
    if fmt is OutputFormat.table:
        for row in rows:
            row["share"] = percent(row["share"])
            row["removal_effect"] = (
                None if row["removal_effect"] is None else percent(row["removal_effect"])
            )
            for key in ("conversions", "value", "difference_from_last_touch"):
                row[key] = round(row[key], 2)
    used = result.request
    title = (
        f"Attribution: {result.conversions:,.0f} conversions, {result.value:,.2f} value, "
        f"{result.journeys:,} journeys"
        + (
            f" ({used.conversion_type}, {used.window_days}-day window)"
            if used.conversion_type
            else f" ({paths})"
        )
        + (f", Markov order {used.markov_order}" if "markov" in (used.models or ()) else "")
    )
    emit(rows, fmt, title=title, keys=2)
    if fmt is OutputFormat.table:
        for note in result.notes:
            typer.echo(f"Note: {note}", err=True)
