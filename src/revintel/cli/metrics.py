"""``revintel metrics …``, ``revintel forecast`` and ``revintel anomalies`` (docs/metrics.md).

The reports are the application's (:mod:`revintel.app.reports`, :mod:`revintel.app.outlooks`);
these commands parse the options, call one of them and print the answer.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from revintel.app.outlooks import DEFAULT_DETECTORS, find_anomalies, forecast_report
from revintel.app.reports import BY_NAMES, REPORTS, ReportRows, headlines, metric_report
from revintel.cli.app import context
from revintel.cli.output import OutputFormat, emit, percent
from revintel.core.formatting import money, whole_dollars

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


_RATIO_SUFFIXES = ("_rate", "_mom", "_yoy", "_cmgr", "_margin", "_retention", "_t12m", "_6m")
_MONEY_SUFFIXES = ("mrr", "mrr_previous", "_cost", "_profit", "_spend")
_MULTIPLES = ("quick_ratio",)  # a ratio of two amounts, read as "5.0x", not as a share


def _unit(column: str) -> str | None:
    """How a report column reads: ``currency``, ``ratio`` (a share), ``multiple``, ``months``,
    ``count``; None for anything else (text, dates)."""
    from revintel.metrics.definitions import DEFINITIONS

    if column in _MULTIPLES:
        return "multiple"
    definition = DEFINITIONS.get(column)
    if definition is not None:
        return definition.unit
    if column.endswith(_RATIO_SUFFIXES) or column.startswith(("nrr", "grr")):
        return "ratio"
    if column.endswith(_MONEY_SUFFIXES):
        return "currency"
    return None


def _human(value: Any, unit: str | None, *, signed: bool = False) -> Any:
    """A value as people read it in a table: ``$642,521``, ``9.2%``, ``5.02x``, ``2.9``."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return value
    sign = "+" if signed and value > 0 else ""
    if unit == "currency":
        return sign + whole_dollars(value)
    if unit == "ratio":
        return sign + percent(value)
    if unit == "multiple":
        return f"{sign}{value:,.2f}x"
    if unit == "months":
        return f"{sign}{value:,.1f}"
    if unit == "count" or isinstance(value, int):
        return f"{sign}{value:,.0f}"
    return value


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
            else:
                cells[column] = _human(value, _unit(column))
        shown.append(cells)
    scope = f"{result['from']}..{result['to']}" if rows else "no months"
    extra = f" by {result['by']}" if result["by"] else ""
    filters = "; ".join(f"{k} in {', '.join(v)}" for k, v in result["filters"].items())
    title = f"{result['label']}{extra}, {scope}" + (f" ({filters})" if filters else "")
    emit(shown, fmt, title=f"{title}\ndefinition: {result['definition']}", keys=len(keys))
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
    if fmt is OutputFormat.csv:  # raw numbers, for a spreadsheet
        metrics = result["metrics"].values()
        emit([{"metric": m["label"], **_summary_fields(m)} for m in metrics], fmt)
        return
    rows = [_summary_row(name, m) for name, m in result["metrics"].items()]
    emit(rows, fmt, title=f"Headline figures, {result['month']} (as of {result['as_of']})")
    width = shutil.get_terminal_size().columns  # the lines under the table wrap, as it does
    for m in result["metrics"].values():
        if m["value"] is None:
            typer.echo(textwrap.fill(f"— {m['label']}: {m['reason']}", width))
        if m.get("note"):
            typer.echo(textwrap.fill(f"{m['label']}: {m['note']}", width))
    typer.echo("Shares change in percentage points (pp); change % is for amounts and counts.")
    typer.echo("Definitions: docs/metrics.md (each metric's section: --format json).")


def _summary_fields(m: dict[str, Any]) -> dict[str, Any]:
    value = m["value"] if m["value"] is not None else f"— ({m['reason']})"
    fields = ("previous", "change", "change_pct", "definition")
    return {"value": value, **{k: m[k] for k in fields}}


def _summary_row(name: str, m: dict[str, Any]) -> dict[str, Any]:
    """A headline as people read it: amounts in dollars, shares in percent, changes signed."""
    unit = "multiple" if name in _MULTIPLES else m["unit"]
    if unit == "currency":

        def shown(v: float | None, signed: bool = False) -> str:
            return ("+" if signed and v is not None and v > 0 else "") + money(v)

    else:

        def shown(v: float | None, signed: bool = False) -> str:
            return "—" if v is None else str(_human(v, unit, signed=signed))

    change = m["change"]
    if unit == "ratio" and change is not None:  # a share's change is in percentage points
        changed = f"{'+' if change > 0 else ''}{change * 100:.1f} pp"
    else:
        changed = shown(change, signed=True)
    return {
        "metric": m["label"],
        "value": shown(m["value"]),  # undefined: "—", its reason under the table
        "previous": shown(m["previous"]),
        "change": changed,
        "change %": "" if (pct := m["change_pct"]) is None else _human(pct, "ratio", signed=True),
    }


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
    units = {"actual": "currency", "expected": "currency", "size": "ratio"}  # size: a share
    rows = [
        {c: _human(a[c], units.get(c), signed=c == "size") for c in columns}
        for a in result["anomalies"]
    ]
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
