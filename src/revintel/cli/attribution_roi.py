"""``revintel attribution roi`` and ``revintel attribution budget``: channel ROI per model and the
budget suggestion (docs/attribution.md, Spend, ROI and budget)."""

from __future__ import annotations

from datetime import date
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

ModelsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--model",
        "-m",
        help="Model to show (repeat for several; 'all' or none: every model).",
    ),
]


def _day(text: str | None, option: str) -> date | None:
    from revintel.attribution.service.roi import InvalidBudgetRequest

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidBudgetRequest(f"{option}: expected a date YYYY-MM-DD, got {text!r}") from None


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


@attribution_app.command("roi")
def roi_command(
    models: ModelsOption = None,
    start: FromOption = None,
    end: ToOption = None,
    window: WindowOption = None,
    conversion_type: ConversionTypeOption = None,
    clv: Annotated[
        bool, typer.Option("--clv/--no-clv", help="Also value conversions at customers' CLV.")
    ] = True,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Spend, CAC, ROAS and ROI per channel and model, and the difference from last touch."""
    from revintel.attribution.credit import MODELS
    from revintel.attribution.service.roi import RoiRequest, channel_roi

    chosen = tuple(MODELS) if not models or "all" in models else tuple(models)
    report = channel_roi(
        context(home),
        RoiRequest(
            models=chosen,
            start=_day(start, "--from"),
            end=_day(end, "--to"),
            window_days=window,
            conversion_type=conversion_type,
            include_clv=clv,
        ),
    )
    if fmt is OutputFormat.json:
        emit(report.to_dict(), fmt)
        return
    rows: list[dict[str, Any]] = [
        {
            "model": r.model,
            "channel": r.channel,
            "conversions": _r(r.conversions, 1),
            "revenue": _r(r.revenue),
            "clv": _r(r.clv),
            "spend": _r(r.spend),
            "cac": _r(r.cac),
            "roas": _r(r.roas, 3),
            "roi": _r(r.roi, 3),
            "clv_roi": _r(r.clv_roi, 3),
            "vs_last_touch": _r(r.difference_from_last_touch, 1),
        }
        for r in report.rows
    ]
    if fmt is OutputFormat.csv:
        emit(rows, fmt)
        return
    typer.echo(
        f"Spend {report.spend_months[0]} to {report.spend_months[-1]}: {report.spend:,.2f}; "
        f"gross margin {percent(report.gross_margin)} ({report.gross_margin_source})"
    )
    if report.clv_note:
        typer.echo(f"CLV: {report.clv_note}")
    emit(rows, fmt, title="Channel ROI (ROI = (revenue × gross margin − spend) ÷ spend)", keys=2)


@attribution_app.command("budget")
def budget_command(
    total: Annotated[
        float | None,
        typer.Option(
            "--total", help="Monthly budget to allocate (default: the current monthly spend)."
        ),
    ] = None,
    bound: Annotated[
        float | None,
        typer.Option(
            "--bound",
            help="Each channel may move this share of its current spend, 0-1 (default 0.3).",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="Model the curves are fitted on (default: markov)."),
    ] = None,
    start: FromOption = None,
    end: ToOption = None,
    window: WindowOption = None,
    conversion_type: ConversionTypeOption = None,
    bootstrap: Annotated[
        int | None,
        typer.Option("--bootstrap", min=10, max=5000, help="Resamples for the gain's interval."),
    ] = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """A model-based budget suggestion from each paid channel's response curve.

    The monthly total is allocated to maximise expected attributed revenue, every channel within
    the bounds.
    """
    from revintel.attribution.service.roi import BudgetRequest, budget_suggestion

    got = budget_suggestion(
        context(home),
        BudgetRequest(
            total=total,
            bound=bound,
            model=model,
            start=_day(start, "--from"),
            end=_day(end, "--to"),
            window_days=window,
            conversion_type=conversion_type,
            bootstrap=bootstrap,
        ),
    )
    if fmt is OutputFormat.json:
        emit(got.to_dict(), fmt)
        return
    rows = [
        {
            "channel": c.channel,
            "current": _r(c.current),
            "suggested": _r(c.suggested),
            "change": _r(c.change),
            "lower": _r(c.lower),
            "upper": _r(c.upper),
            "a": _r(c.a, 6),
            "b": _r(c.b, 3),
            "r_squared": _r(c.r_squared, 3),
            "months": len(c.months),
            "revenue_per_conversion": _r(c.value_per_conversion),
            "note": c.reason or "",
        }
        for c in got.channels
    ]
    if fmt is OutputFormat.csv:
        emit(rows, fmt)
        return
    typer.echo(f"{got.label} ({got.curve}); it rests on: {got.rests_on}.")
    typer.echo(
        f"Monthly total {got.total:,.2f} (current {got.current_total:,.2f}), each channel within "
        f"±{got.bound:.0%} of its current spend."
    )
    emit(rows, fmt, title=f"Budget by channel ({got.model} credit)")
    typer.echo(
        f"Expected attributed revenue a month: {got.expected_revenue_suggested:,.0f} against "
        f"{got.expected_revenue_baseline:,.0f} with the current mix at this total: gain "
        f"{got.gain:,.0f} (90% bootstrap interval {got.gain_low:,.0f} to {got.gain_high:,.0f}, "
        f"{got.bootstrap} resamples of the months)."
    )
    for note in got.notes:
        typer.echo(f"Note: {note}")
