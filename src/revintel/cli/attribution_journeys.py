"""``revintel attribution`` commands: journeys (docs/attribution.md, Journeys and Journey
analytics).

``paths`` prints the top paths (or the path lengths, time to convert or first-to-last flows with
``--show``) and ``journey CUSTOMER_ID`` one customer's journey. Each parses its options, calls
one function of :mod:`revintel.attribution.service.journeys` and prints.
"""

from __future__ import annotations

from enum import StrEnum
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


class Show(StrEnum):
    paths = "paths"
    lengths = "lengths"
    time_to_convert = "time-to-convert"
    flows = "flows"


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _section(report: Any, show: Show, fmt: OutputFormat) -> tuple[list[dict[str, Any]], str]:
    table = fmt is OutputFormat.table
    if show is Show.lengths:
        rows = [
            {
                "touches": b.touches,
                "converting": b.converting,
                "non_converting": b.non_converting,
                "conversion_rate": percent(b.conversion_rate) if table else b.conversion_rate,
            }
            for b in report.path_lengths
        ]
        return rows, "Path length: journeys by number of touches"
    if show is Show.time_to_convert:
        ttc = report.time_to_convert
        rows = [
            {
                "days": b.label,
                "conversions": b.conversions,
                "share": percent(b.share) if table else b.share,
            }
            for b in ttc.bins
        ]
        median = "–" if ttc.median_days is None else f"{ttc.median_days:.1f}"
        return rows, f"Time to convert, first touch to conversion (median {median} days)"
    if show is Show.flows:
        rows = [
            {"first": f.first, "last": f.last, "conversions": f.conversions, "value": _r(f.value)}
            for f in report.flows
        ]
        return rows, "First touch → last touch, converting journeys"
    rows = [
        {
            "path": p.label,
            "journeys": p.journeys,
            "conversions": p.conversions,
            "conversion_rate": percent(p.conversion_rate) if table else p.conversion_rate,
            "value": _r(p.value),
        }
        for p in report.top_paths
    ]
    repeats = " (repeats collapsed)" if report.collapse_repeats else ""
    return rows, f"Top {len(rows)} paths{repeats}"


@attribution_app.command()
def paths(
    top: Annotated[int, typer.Option("--top", min=1, max=1000, help="How many paths.")] = 20,
    collapse_repeats: Annotated[
        bool,
        typer.Option(
            "--collapse-repeats/--keep-repeats",
            help="Consecutive touches on one channel count once (Email > Email is Email).",
        ),
    ] = False,
    show: Annotated[
        Show, typer.Option("--show", help="paths, lengths, time-to-convert or flows.")
    ] = Show.paths,
    start: FromOption = None,
    end: ToOption = None,
    window: WindowOption = None,
    conversion_type: ConversionTypeOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Top paths with their journeys, conversions and conversion rate; path lengths, time to
    convert and first-to-last flows with --show."""
    from revintel.attribution.service import journeys as service

    report = service.path_report(
        context(home),
        top=top,
        collapse_repeats=collapse_repeats,
        start=start,
        end=end,
        window_days=window,
        conversion_type=conversion_type,
    )
    rows, title = _section(report, show, fmt)
    o = report.options
    title += f" · {o.conversion_type}, {o.window_days}-day window"
    if fmt is OutputFormat.table:
        title += (
            f" · {report.journeys:,.0f} journeys, {report.conversions:,.0f} conversions "
            f"({percent(report.conversion_rate)})"
        )
    emit(rows, fmt, title=title)


@attribution_app.command()
def journey(
    customer_id: Annotated[str, typer.Argument(help="The customer's id.")],
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """One customer's journey: every touch and conversion in order, with the days between."""
    from revintel.attribution.service import journeys as service

    result = service.customer_journey(context(home), customer_id)
    if fmt is OutputFormat.json:
        emit(result.to_dict(), fmt)
        return
    rows = [
        {
            "at": e.at,
            "event": e.channel if e.kind == "touch" else f"→ {e.conversion_type} conversion",
            "source": e.source,
            "medium": e.medium,
            "campaign": e.campaign,
            "value": _r(e.value),
            "days_since_previous": _r(e.days_since_previous, 1),
            "journey": e.journey_id,
        }
        for e in result.events
    ]
    days = result.days_to_first_conversion
    title = (
        f"Customer {customer_id}: {result.touches} touches, {result.conversions} conversions"
        + ("" if days is None else f", {days:.1f} days from first touch to first conversion")
    )
    if not rows:
        typer.echo(f"{title} (no touch or conversion is loaded for this customer)")
        return
    emit(rows, fmt, title=title)
