"""``revintel metrics …``, ``revintel forecast`` and ``revintel anomalies`` (docs/metrics.md).

The reports are the application's (:mod:`revintel.app.reports`, :mod:`revintel.app.outlooks`);
these commands parse the options, call one of them and print the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from revintel.app.outlooks import DEFAULT_DETECTORS, find_anomalies, forecast_report
from revintel.app.reports import BY_NAMES, REPORTS, ReportRows, headlines, metric_report
from revintel.cli.app import context
from revintel.cli.output import OutputFormat, emit, percent

# -- the command line -----------------------------------------------------------------------------
metrics_app = typer.Typer(
    help="SaaS metrics: MRR, movements, churn, retention, cohorts, conversion, revenue, finance.",
    no_args_is_help=True,
)

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Data folder (default: $REVINTEL_HOME or a per-user data dir)."),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
FromOption = Annotated[
    str | None, typer.Option("--from", help="First month, YYYY-MM (default: the data's first).")
]
ToOption = Annotated[
    str | None, typer.Option("--to", help="Last month, YYYY-MM (default: last complete month).")
]
ByOption = Annotated[
    str | None, typer.Option("--by", help=f"Break down by: {', '.join(BY_NAMES)}.")
]


def _values(help_text: str) -> Any:
    return typer.Option(help=f"Only these {help_text} (repeatable).")


SegmentOption = Annotated[list[str] | None, _values("segments")]
PlanOption = Annotated[list[str] | None, _values("plans")]
CountryOption = Annotated[list[str] | None, _values("countries")]
ChannelOption = Annotated[list[str] | None, _values("acquisition channels")]
IndustryOption = Annotated[list[str] | None, _values("industries")]

_CLI_FIELDS = {"start": "--from", "end": "--to", "by": "--by"}


def _is_ratio(column: str) -> bool:
    from revintel.metrics.definitions import DEFINITIONS

    definition = DEFINITIONS.get(column)
    if definition is not None:
        return definition.unit == "ratio"
    return column.endswith(_RATIO_SUFFIXES) or column.startswith(("nrr", "grr"))


_RATIO_SUFFIXES = ("_rate", "_mom", "_yoy", "_cmgr", "_margin", "_retention", "_t12m")


def _print_report(answer: ReportRows, fmt: OutputFormat) -> None:
    result = answer.to_dict()
    rows = result["rows"]
    if fmt is not OutputFormat.table:
        emit(rows, fmt)
        return
    report = answer.report
    keys = [*report.keys, *([result["by"]] if result["by"] else [])]
    undefined: dict[str, list[str]] = {}
    shown = []
    for row in rows:
        columns = report.table_columns or [
            k for k in row if not k.endswith("_reason") and k != "definition" and k not in keys
        ]
        cells: dict[str, Any] = {k: row[k] for k in keys}
        for column in columns:
            value, reason = row[column], row.get(f"{column}_reason")
            if value is None and reason:
                where = "/".join(str(row[k]) for k in keys)
                undefined.setdefault(f"{reason}", []).append(f"{column} {where}")
                cells[column] = "—"
            elif value is not None and _is_ratio(column):
                cells[column] = percent(value)
            else:
                cells[column] = value
        shown.append(cells)
    scope = f"{result['from']}..{result['to']}" if rows else "no months"
    extra = f" by {result['by']}" if result["by"] else ""
    filters = "; ".join(f"{k} in {', '.join(v)}" for k, v in result["filters"].items())
    title = f"{result['label']}{extra}, {scope}" + (f" ({filters})" if filters else "")
    emit(shown, fmt, title=f"{title}\ndefinition: {result['definition']}")
    for reason, where in undefined.items():
        listed = ", ".join(where[:6]) + (f" and {len(where) - 6} more" if len(where) > 6 else "")
        typer.echo(f"— {reason}: {listed}")


def _report_command(name: str) -> Callable[..., None]:
    report = REPORTS[name]

    def command(
        start: FromOption = None,
        end: ToOption = None,
        by: ByOption = None,
        segment: SegmentOption = None,
        plan: PlanOption = None,
        country: CountryOption = None,
        channel: ChannelOption = None,
        industry: IndustryOption = None,
        home: HomeOption = None,
        fmt: FormatOption = OutputFormat.table,
    ) -> None:
        filters = {
            "segment": segment,
            "plan": plan,
            "country": country,
            "channel": channel,
            "industry": industry,
        }
        result = metric_report(
            context(home),
            name,
            start=start,
            end=end,
            by=by,
            filters={k: v for k, v in filters.items() if v},
            field_names=_CLI_FIELDS,
        )
        _print_report(result, fmt)

    command.__doc__ = f"{report.label} per month ({report.definition})."
    return command


@metrics_app.command("summary")
def summary_command(home: HomeOption = None, fmt: FormatOption = OutputFormat.table) -> None:
    """Headline figures of the latest complete month, with the month before and the change."""
    result = headlines(context(home)).to_dict()
    if fmt is OutputFormat.json:
        emit(result, fmt)
        return
    rows = [
        {
            "metric": m["label"],
            "value": m["value"] if m["value"] is not None else f"— ({m['reason']})",
            "previous": m["previous"],
            "change": m["change"],
            "change_pct": m["change_pct"],
            "definition": m["definition"],
        }
        for m in result["metrics"].values()
    ]
    emit(rows, fmt, title=f"Headline figures, {result['month']} (as of {result['as_of']})")
    for m in result["metrics"].values():
        if m.get("note") and fmt is OutputFormat.table:
            typer.echo(f"{m['label']}: {m['note']}")


for _name in REPORTS:
    metrics_app.command(_name)(_report_command(_name))


def forecast_command(
    series: Annotated[
        str, typer.Argument(help="mrr, revenue, paying_customers, new_mrr or churned_mrr.")
    ],
    horizon: Annotated[int, typer.Option(min=3, max=6, help="Months ahead (3 to 6).")] = 6,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Forecast a monthly series with 80% and 95% intervals; the chosen model and its backtest."""
    result = forecast_report(context(home), series, horizon).to_dict()
    if fmt is OutputFormat.json:
        emit(result, fmt)
        return
    evidence = {
        "model": result["model"],
        "backtest_mape": result["backtest_mape"],
        "backtest_mase": result["backtest_mase"],
    }
    rows = [{**row, **evidence} for row in result["forecast"]]
    if fmt is OutputFormat.csv:
        emit(rows, fmt)
        return
    mape_points = result["backtest_mape"]  # in percent, like the reason's figures
    mape = percent(None if mape_points is None else mape_points / 100, digits=2)
    mase = "n/a" if result["backtest_mase"] is None else f"{result['backtest_mase']:.2f}"
    detail = f" ({result['model_detail']})" if result["model_detail"] else ""
    title = (
        f"{result['series']} forecast, {result['horizon']} months\n"
        f"model {result['model']}{detail}: backtest MAPE {mape}, MASE {mase}\n"
        f"chosen because {result['reason']}\ndefinition: {result['definition']}"
    )
    emit(result["forecast"], fmt, title=title)
    for note in result["notes"]:
        typer.echo(f"Note: {note}")


def anomalies_command(
    series: Annotated[
        list[str] | None, typer.Option("--series", help="mrr and/or revenue (default both).")
    ] = None,
    threshold: Annotated[
        float,
        typer.Option(min=0.0, help="Rule: month-over-month change this far from the trend."),
    ] = 0.10,
    level: Annotated[
        int, typer.Option(min=1, max=99, help="Statistical: prediction interval level, %.")
    ] = 95,
    detector: Annotated[
        list[str] | None,
        typer.Option("--detector", help="statistical (default) and/or rule (MoM vs trend)."),
    ] = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Anomalous months of MRR and revenue: the statistical detector; the MoM rule on request."""
    result = find_anomalies(
        context(home),
        series or ("mrr", "revenue"),
        threshold=threshold,
        level=level,
        detectors=detector or DEFAULT_DETECTORS,
    ).to_dict()
    if fmt is OutputFormat.json:
        emit(result, fmt)
        return
    columns = ("month", "metric", "detector", "actual", "expected", "size", "reason")
    rows = [{c: a[c] for c in columns} for a in result["anomalies"]]
    if fmt is OutputFormat.csv:
        emit(result["anomalies"], fmt)
        return
    emit(
        rows,
        fmt,
        title=f"Anomalies ({len(rows)}): "
        + "; ".join(
            f"rule: MoM change more than {threshold:.0%} from the trend"
            if d == "rule"
            else f"statistical: MRR movements and payment collections outside their {level}% "
            "band for the whole history"
            for d in result["detectors"]
        ),
    )
    for note in result["notes"]:
        typer.echo(f"Note: {note}")
