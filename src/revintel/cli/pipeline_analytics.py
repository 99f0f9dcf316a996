"""``revintel pipeline`` commands: analytics (docs/pipeline.md).

``summary``, ``by-stage``, ``won``, ``win-drivers``, ``competitors`` and ``scenario``. Each parses
its options, calls one function of :mod:`revintel.pipeline.service.analytics` and prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from revintel.cli.app import context
from revintel.cli.output import OutputFormat, emit, percent
from revintel.cli.pipeline import (
    FormatOption,
    FromOption,
    HomeOption,
    OwnerOption,
    SegmentOption,
    StageOption,
    ToOption,
    pipeline_app,
)


def _filters(
    owner: str | None,
    segment: str | None,
    stage: str | None,
    created_from: str | None,
    created_to: str | None,
) -> Any:
    from revintel.pipeline.service import analytics as service

    return service.make_filter(
        owner=owner,
        segment=segment,
        stage=stage,
        created_from=created_from,
        created_to=created_to,
    )


def _r(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4) if abs(value) < 10 else round(value, 2)
    return value


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _r(v) for k, v in row.items()}


@pipeline_app.command()
def summary(
    owner: OwnerOption = None,
    segment: SegmentOption = None,
    stage: StageOption = None,
    created_from: FromOption = None,
    created_to: ToOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Open pipeline, deal count, win rate, average deal size, 90-day weighted forecast."""
    from revintel.pipeline.service import analytics as service

    filters = _filters(owner, segment, stage, created_from, created_to)
    result = service.summary(context(home), filters).to_dict()
    if fmt is OutputFormat.json:
        emit(result, fmt)
        return
    rows = [
        {"measure": k, "value": _r(v)}
        for k, v in result.items()
        if k != "filters" and not isinstance(v, dict)
    ]
    if fmt is OutputFormat.table:
        for row in rows:
            if row["measure"] in ("win_rate", "win_rate_amount"):
                row["value"] = percent(row["value"])
    emit(rows, fmt, title=f"Pipeline summary as of {result['as_of']}")


@pipeline_app.command("by-stage")
def by_stage(
    owner: OwnerOption = None,
    segment: SegmentOption = None,
    stage: StageOption = None,
    created_from: FromOption = None,
    created_to: ToOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Open deals per stage: count, amount, weighted amount, age, conversion, days in stage."""
    from revintel.pipeline.service import analytics as service

    filters = _filters(owner, segment, stage, created_from, created_to)
    rows = service.by_stage(context(home), filters)
    emit([_rounded(r) for r in rows] if fmt is not OutputFormat.json else rows, fmt,
         title="Open pipeline by stage")  # fmt: skip


@pipeline_app.command()
def won(
    by: Annotated[
        str | None,
        typer.Option(
            "--by", help="Win rate by segment, owner, lead_source, deal_type or competitor."
        ),
    ] = None,
    owner: OwnerOption = None,
    segment: SegmentOption = None,
    stage: StageOption = None,
    created_from: FromOption = None,
    created_to: ToOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Won deals: count, amount, deal size, sales cycle, per month; win rates by a dimension."""
    from revintel.pipeline.service import analytics as service

    filters = _filters(owner, segment, stage, created_from, created_to)
    ctx = context(home)
    if by is not None:
        rows = service.win_rates(ctx, by, filters)
        emit([_rounded(r) for r in rows] if fmt is not OutputFormat.json else rows, fmt,
             title=f"Win rate by {by} (closed deals)")  # fmt: skip
        return
    result = service.won_summary(ctx, filters)
    if fmt is OutputFormat.json:
        emit(result, fmt)
        return
    totals = {**result["totals"], **{f"win_{k}": v for k, v in (result["win_rate"] or {}).items()
                                     if k in ("rate", "rate_amount")}}  # fmt: skip
    if fmt is OutputFormat.table:
        emit([_rounded(totals)], fmt, title="Won deals")
    emit([_rounded(r) for r in result["per_month"]], fmt, title="Won per month of close")


@pipeline_app.command("win-drivers")
def win_drivers(
    truth: Annotated[
        Path | None,
        typer.Option(
            "--truth", help="Truth folder of a generated company (default: the demo's, if any)."
        ),
    ] = None,
    owner: OwnerOption = None,
    segment: SegmentOption = None,
    stage: StageOption = None,
    created_from: FromOption = None,
    created_to: ToOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Odds ratio and 95% interval per qualification flag and competitor (controls: deal type,
    segment), beside the planted ones on a generated company."""
    from revintel.pipeline.service import analytics as service

    filters = _filters(owner, segment, stage, created_from, created_to)
    result = service.win_drivers(context(home), filters, truth=truth)
    rows = [
        {
            "feature": d.feature,
            "odds_ratio": d.odds_ratio,
            "ci_low": d.ci_low,
            "ci_high": d.ci_high,
            "p_value": d.p_value,
            "deals_with": d.deals_with,
            "planted_odds_ratio": d.planted_odds_ratio,
            "planted_within_ci": d.planted_within_ci,
        }
        for d in result.drivers
    ]
    if fmt is OutputFormat.json:
        emit(rows, fmt)
        return
    if fmt is OutputFormat.table:
        auc = "n/a" if result.holdout_auc is None else f"{result.holdout_auc:.3f}"
        brier = "n/a" if result.holdout_brier is None else f"{result.holdout_brier:.3f}"
        typer.echo(
            f"{result.deals} closed deals ({result.won} won); controls: "
            f"{', '.join(result.controls) or 'none'}; held-out ROC AUC {auc}, Brier {brier} "
            f"on the latest {result.holdout_deals} closed deals"
        )
        for note in result.notes:
            typer.secho(f"Note: {note}", fg="yellow", err=True)
    emit([_rounded(r) for r in rows], fmt, title="Win drivers (logistic regression)")


@pipeline_app.command()
def competitors(
    owner: OwnerOption = None,
    segment: SegmentOption = None,
    stage: StageOption = None,
    created_from: FromOption = None,
    created_to: ToOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Win rate against each competitor with its 95% interval, threats and opportunities."""
    from revintel.pipeline.service import analytics as service

    filters = _filters(owner, segment, stage, created_from, created_to)
    result = service.competitors(context(home), filters).to_dict()
    if fmt is OutputFormat.json:
        emit(result, fmt)
        return
    emit([_rounded(r) for r in result["competitors"]], fmt, title="Win rate by competitor")
    if fmt is OutputFormat.csv:
        return
    o = result["overall"]
    typer.echo(
        f"Overall win rate {percent(o['win_rate'])} "
        f"(95% {percent(o['ci_low'])}–{percent(o['ci_high'])}, {o['closed']} closed deals)"
    )
    typer.echo(f"Test: {result['test']}")
    for t in result["threats"]:
        typer.secho(f"Threat: {t['competitor']}, {t['kind']}: {t['evidence']}", fg="red")
    if not result["threats"]:
        typer.echo("Threats: none significant.")
    for op in result["opportunities"]:
        typer.secho(f"Opportunity: {op['evidence']}", fg="green")
    for note in result["notes"]:
        typer.secho(f"Note: {note}", fg="yellow", err=True)


@pipeline_app.command()
def scenario(
    win_rate_increase: Annotated[
        float, typer.Option("--win-rate-increase", help="Relative change, e.g. 0.10 for +10%.")
    ] = 0.0,
    deal_size_increase: Annotated[
        float, typer.Option("--deal-size-increase", help="Relative change of deal size.")
    ] = 0.0,
    pipeline_growth: Annotated[
        float, typer.Option("--pipeline-growth", help="Relative change of the open pipeline.")
    ] = 0.0,
    cycle_time_change: Annotated[
        float, typer.Option("--cycle-time-change", help="Relative change of days to close.")
    ] = 0.0,
    owner: OwnerOption = None,
    segment: SegmentOption = None,
    stage: StageOption = None,
    created_from: FromOption = None,
    created_to: ToOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """What-if: baseline against projected forecast, with a simulated distribution."""
    from revintel.pipeline.scenario import ScenarioInputs
    from revintel.pipeline.service import analytics as service

    inputs = ScenarioInputs(
        win_rate_increase=win_rate_increase,
        deal_size_increase=deal_size_increase,
        pipeline_growth=pipeline_growth,
        cycle_time_change=cycle_time_change,
    )
    filters = _filters(owner, segment, stage, created_from, created_to)
    result = service.scenario(context(home), inputs, filters=filters).to_dict()
    if fmt is OutputFormat.json:
        emit(result, fmt)
        return
    rows = []
    for key in ("pipeline", "win_rate", "forecast", "forecast_in_horizon"):
        rows.append(
            {
                "measure": key,
                "baseline": _r(result["baseline"][key]),
                "projected": _r(result["projected"][key]),
            }
        )
    base, proj = result["distribution"]["baseline"], result["distribution"]["projected"]
    for q in base["percentiles"]:
        rows.append(
            {
                "measure": f"simulated {q}",
                "baseline": _r(base["percentiles"][q]),
                "projected": _r(proj["percentiles"][q]),
            }
        )
    emit(rows, fmt, title=f"Scenario (horizon {result['horizon_days']} days)")
    if fmt is OutputFormat.table:
        d = result["delta"]
        pct = "n/a" if d["percent"] is None else f"{d['percent']:+.1f}%"
        typer.echo(f"Delta: {d['value']:+,.0f} ({pct})")
