"""``revintel metrics …``, ``revintel forecast`` and ``revintel anomalies`` (docs/metrics.md).

The metric reports (which service function, which columns, which definition) are described once
here in :data:`REPORTS`; the command line and the API (``revintel.api.routes.metrics``) both
answer through :func:`metric_report`, :func:`series_rows` and :func:`find_anomalies`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args

import typer

from revintel.cli.app import context
from revintel.cli.output import OutputFormat, emit, percent
from revintel.core.errors import NoDataError, RevintelError
from revintel.core.vocabulary import DIMENSION_OPTIONS

if TYPE_CHECKING:  # the context imports Ibis, SQLAlchemy and PyArrow: not for --help
    from revintel.app.context import AppContext

DOC = "docs/metrics.md"

MetricName = Literal[
    "mrr",
    "movements",
    "churn",
    "retention",
    "cohorts",
    "conversion",
    "revenue",
    "finance",
    "cac",
    "ltv",
]
METRIC_NAMES: tuple[str, ...] = get_args(MetricName)

ByName = Literal["segment", "plan", "country", "channel", "acquisition_channel", "industry"]
"""Breakdowns as a user names them; ``channel`` is short for ``acquisition_channel``."""
BY_NAMES: tuple[str, ...] = get_args(ByName)
FILTER_DIMENSIONS: dict[str, str] = dict(DIMENSION_OPTIONS)
"""Filter option (``--channel``, ``?channel=``) -> the metrics engine's dimension."""

AnomalySeries = Literal["mrr", "revenue"]


@dataclass(frozen=True)
class MetricReport:
    """One ``revintel metrics NAME`` report: where its rows come from and what they mean.

    ``columns`` are the metric columns shown (``(source column, shown as)``), after ``month`` (or
    ``cohort``, ``age``) and the breakdown; a source ``<column>_reason`` goes along as
    ``<shown>_reason``. ``columns=None`` keeps every column the service returns.
    """

    label: str
    anchor: str
    fetch: Callable[..., list[dict[str, Any]]]
    columns: tuple[tuple[str, str], ...] | None
    breakdown: Literal["any", "channel", "none"] = "any"
    keys: tuple[str, ...] = ("month",)
    table_columns: tuple[str, ...] | None = None  # in a terminal table; None: every column

    @property
    def definition(self) -> str:
        return f"{DOC}#{self.anchor}"


def _service() -> Any:
    from revintel.metrics import service

    return service


def _same(*names: str) -> tuple[tuple[str, str], ...]:
    return tuple((n, n) for n in names)


REPORTS: dict[str, MetricReport] = {
    "mrr": MetricReport(
        "MRR",
        "mrr",
        lambda ctx, **kw: _service().mrr_movements(ctx, **kw),
        _same("mrr", "arr", "customers", "arpa", "mrr_mom", "mrr_yoy", "mrr_cmgr"),
        table_columns=("mrr", "arr", "customers", "arpa", "mrr_mom", "mrr_yoy"),
    ),
    "movements": MetricReport(
        "MRR movements",
        "mrr-movements",
        lambda ctx, **kw: _service().mrr_movements(ctx, **kw),
        _same(
            "mrr",
            "mrr_previous",
            "new",
            "expansion",
            "contraction",
            "churn",
            "reactivation",
            "net_new_mrr",
            "customers",
            "new_customers",
            "expansion_customers",
            "contraction_customers",
            "churned_customers",
            "reactivated_customers",
            "quick_ratio",
        ),
        table_columns=(
            "mrr",
            "new",
            "expansion",
            "contraction",
            "churn",
            "reactivation",
            "customers",
        ),
    ),
    "churn": MetricReport(
        "Churn rates",
        "churn-and-retention",
        lambda ctx, **kw: _service().mrr_movements(ctx, **kw),
        (
            ("customers_previous", "customers_previous"),
            ("churned_customers", "churned_customers"),
            ("logo_churn_rate", "logo_churn_rate"),
            ("customer_retention_rate", "customer_retention_rate"),
            ("gross_mrr_churn_rate", "gross_mrr_churn_rate"),
            ("net_mrr_churn_rate", "net_mrr_churn_rate"),
            ("nrr_monthly", "nrr"),
        ),
        table_columns=(
            "churned_customers",
            "logo_churn_rate",
            "gross_mrr_churn_rate",
            "net_mrr_churn_rate",
            "nrr",
        ),
    ),
    "retention": MetricReport(
        "Retention (monthly and trailing 12 months)",
        "churn-and-retention",
        lambda ctx, **kw: _service().retention(ctx, **kw),
        None,
        table_columns=(
            "customers",
            "logo_churn_rate",
            "customer_retention_rate",
            "nrr_monthly",
            "nrr_t12m",
            "grr_t12m",
        ),
    ),
    "cohorts": MetricReport(
        "Cohort retention",
        "cohorts",
        lambda ctx, **kw: _service().cohorts(ctx, **kw),
        None,
        keys=("cohort", "age", "month"),
        table_columns=("cohort_customers", "customers", "logo_retention", "revenue_retention"),
    ),
    "conversion": MetricReport(
        "Trial-to-paid conversion",
        "trial-to-paid-conversion",
        lambda ctx, **kw: _service().trial_conversion(ctx, **kw),
        None,
    ),
    "revenue": MetricReport(
        "Revenue",
        "revenue",
        lambda ctx, **kw: _service().revenue(ctx, **kw),
        None,
        table_columns=("revenue", "successful_payments", "revenue_mom", "revenue_yoy"),
    ),
    "finance": MetricReport(
        "Revenue, costs and margins",
        "gross-margin-and-operating-profit",
        lambda ctx, **kw: _service().financials(ctx, **kw),
        None,
        table_columns=(
            "revenue",
            "infra_cost",
            "support_cost",
            "marketing_cost",
            "gross_margin",
            "operating_profit",
        ),
        breakdown="none",
    ),
    "cac": MetricReport(
        "CAC and payback",
        "cac-and-payback",
        lambda ctx, **kw: _service().acquisition(ctx, **kw),
        None,
        breakdown="channel",
    ),
    "ltv": MetricReport(
        "LTV",
        "ltv",
        lambda ctx, **kw: _service().ltv(ctx, **kw),
        None,
    ),
}


# -- the reports, shared with the API -------------------------------------------------------------
def check_month(value: str | None, field: str) -> str | None:
    """``value`` if it is a month ``YYYY-MM`` (or None); the error names ``field``."""
    if value is None:
        return None
    from revintel.core.calendar import month_number

    month_number(value, field)
    return value.strip()


def check_by(by: str | None, field: str = "by") -> str | None:
    """The engine's dimension for a breakdown a user named (``channel`` is accepted)."""
    if by is None:
        return None
    if by not in BY_NAMES:
        raise _invalid(
            f"{field} = {by!r} is not a breakdown; expected one of {', '.join(BY_NAMES)}"
        )
    return FILTER_DIMENSIONS.get(by, by)


def _invalid(message: str) -> RevintelError:
    from revintel.metrics.options import InvalidMetricOption

    return InvalidMetricOption(message)


def metric_report(
    ctx: AppContext,
    name: str,
    *,
    start: str | None = None,
    end: str | None = None,
    by: str | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
    field_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One report's rows over ``start``..``end``, each carrying its ``definition`` link.

    ``filters`` are keyed by filter option (``channel``, not ``acquisition_channel``);
    ``field_names`` say how the caller spells ``start``, ``end`` and ``by`` in error messages
    (``--from`` on the command line, ``from`` in the API). A metric whose table was never loaded
    raises :class:`~revintel.core.errors.NoDataError` naming the metric and the table.
    """
    names = {"start": "from", "end": "to", "by": "by", **(field_names or {})}
    if name not in REPORTS:
        raise _invalid(f"metric {name!r} is unknown; expected one of {', '.join(REPORTS)}")
    report = REPORTS[name]
    start = check_month(start, names["start"])
    end = check_month(end, names["end"])
    dimension = check_by(by, names["by"])
    unknown = [k for k in (filters or {}) if k not in FILTER_DIMENSIONS]
    if unknown:
        raise _invalid(
            f"filter {unknown[0]!r} is unknown; expected one of {', '.join(FILTER_DIMENSIONS)}"
        )
    from revintel.metrics.options import check_filter_values

    checked = {
        FILTER_DIMENSIONS[k]: check_filter_values(k, v) for k, v in (filters or {}).items() if v
    }
    options: dict[str, Any] = {"start": start, "end": end}
    if report.breakdown == "none":
        if dimension or checked:
            raise _invalid(f"{report.label} ({name}) has no breakdown or filters")
    elif report.breakdown == "channel":
        if checked or dimension not in (None, "acquisition_channel"):
            raise _invalid(
                f"{names['by']}: {report.label} ({name}) can only be broken down by channel "
                "and takes no filters"
            )
        options["by"] = dimension
    else:
        options.update(by=dimension, filters=checked or None)
    try:
        raw = report.fetch(ctx, **options)
    except NoDataError as exc:
        raise NoDataError(f"{report.label} ({name}) cannot be computed: {exc}") from exc
    rows = [_shape(row, report, dimension) for row in raw]
    return {
        "metric": name,
        "label": report.label,
        "definition": report.definition,
        "by": dimension,
        "filters": checked,
        "from": rows[0][report.keys[0]] if rows else start,
        "to": max((r["month"] for r in rows), default=end),
        "rows": rows,
    }


def _shape(row: Mapping[str, Any], report: MetricReport, by: str | None) -> dict[str, Any]:
    if report.columns is None:
        out = dict(row)
    else:
        out = {k: row[k] for k in report.keys}
        if by is not None:
            out[by] = row[by]
        for source, shown in report.columns:
            out[shown] = row[source]
            if f"{source}_reason" in row:
                out[f"{shown}_reason"] = row[f"{source}_reason"]
    out["definition"] = report.definition
    return out


def series_rows(ctx: AppContext, series: str) -> list[dict[str, Any]]:
    """The monthly rows a forecastable series is read from (``forecast.service.SERIES``)."""
    from revintel.forecast.service import SERIES

    if series not in SERIES:
        raise RevintelError(
            f"series: unknown series {series!r}; expected one of {', '.join(SERIES)}"
        )
    service = _service()
    if series == "revenue":
        try:
            return service.rows_with_drivers(ctx, "revenue")
        except NoDataError as exc:
            raise NoDataError(f"Revenue cannot be forecast: {exc}") from exc
    if series == "mrr":
        return service.rows_with_drivers(ctx, "mrr")
    return service.mrr_movements(ctx)


def forecast_report(ctx: AppContext, series: str, horizon: int = 6) -> dict[str, Any]:
    """The forecast of one series, its model, backtest errors and notes, JSON-ready."""
    from revintel.forecast.service import forecast_metric

    result = forecast_metric(series_rows(ctx, series), series, horizon)  # type: ignore[arg-type]
    out = result.to_dict()
    out["definition"] = f"{DOC}#{_SERIES_ANCHORS.get(series, 'mrr')}"
    out["forecast_definition"] = "docs/forecasting.md#how-the-model-is-chosen"
    return out


_SERIES_ANCHORS = {
    "mrr": "mrr",
    "revenue": "revenue",
    "paying_customers": "paying-customers",
    "new_mrr": "mrr-movements",
    "churned_mrr": "mrr-movements",
}


def find_anomalies(
    ctx: AppContext,
    series: Sequence[str] = ("mrr", "revenue"),
    *,
    threshold: float = 0.10,
    level: int = 95,
    detectors: Sequence[str] = ("rule", "statistical"),
) -> dict[str, Any]:
    """Anomalous months of MRR and revenue by both detectors, each with its reason and size.

    A series whose table is not loaded is skipped with a note naming the table.
    """
    from revintel.forecast.anomalies import DETECTORS
    from revintel.forecast.service import SERIES, metric_anomalies

    wrong = [s for s in series if s not in get_args(AnomalySeries)]
    if wrong:
        expected = ", ".join(get_args(AnomalySeries))
        raise _invalid(f"series = {wrong[0]!r}; expected one of {expected}")
    wrong = [d for d in detectors if d not in DETECTORS]
    if wrong:
        raise _invalid(f"detector = {wrong[0]!r}; expected one of {', '.join(DETECTORS)}")
    found: list[dict[str, Any]] = []
    notes: list[str] = []
    for name in dict.fromkeys(series):
        try:
            rows = series_rows(ctx, name)
        except NoDataError as exc:
            notes.append(f"{SERIES[name].label} skipped: {exc}")  # type: ignore[index]
            continue
        for anomaly in metric_anomalies(rows, name, mom_threshold=threshold, level=level):  # type: ignore[arg-type]
            if anomaly.detector in detectors:
                found.append({**anomaly.to_dict(), "metric": name})
    found.sort(key=lambda a: (a["month"], a["metric"], a["detector"]))
    return {
        "threshold": threshold,
        "level": level,
        "detectors": list(detectors),
        "anomalies": found,
        "notes": notes,
        "definition": "docs/forecasting.md#anomalies",
    }


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


def _print_report(result: dict[str, Any], fmt: OutputFormat) -> None:
    rows = result["rows"]
    if fmt is not OutputFormat.table:
        emit(rows, fmt)
        return
    report = REPORTS[result["metric"]]
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
    result = _service().summary(context(home))
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
    result = forecast_report(context(home), series, horizon)
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
        float, typer.Option(min=0.0, help="Rule: |month-over-month change| above this fraction.")
    ] = 0.10,
    level: Annotated[
        int, typer.Option(min=1, max=99, help="Statistical: prediction interval level, %.")
    ] = 95,
    detector: Annotated[
        list[str] | None, typer.Option("--detector", help="rule and/or statistical (default both).")
    ] = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Anomalous months of MRR and revenue: the MoM rule and the statistical detector."""
    result = find_anomalies(
        context(home),
        series or ("mrr", "revenue"),
        threshold=threshold,
        level=level,
        detectors=detector or ("rule", "statistical"),
    )
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
        title=(
            f"Anomalies ({len(rows)}): rule |MoM| > {threshold:.0%}; statistical: MRR movements "
            f"and payment collections outside their {level}% band for the whole history"
        ),
    )
    for note in result["notes"]:
        typer.echo(f"Note: {note}")
