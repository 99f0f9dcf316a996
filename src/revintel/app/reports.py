"""The metric reports and the series registry the faces share (docs/metrics.md).

A report (which service function, which columns, which definition) is described once here in
:data:`REPORTS`; ``revintel metrics``, ``GET /api/v1/metrics/{name}`` and the forecasts answer
through :func:`metric_report` and :func:`series_rows`.
"""

from __future__ import annotations

__all__ = [
    "BY_NAMES",
    "DOC",
    "FILTER_DIMENSIONS",
    "METRIC_NAMES",
    "REPORTS",
    "SERIES_ANCHORS",
    "ByName",
    "MetricName",
    "MetricReport",
    "ReportRows",
    "check_by",
    "check_month",
    "headlines",
    "metric_report",
    "series_rows",
]

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from revintel.core.errors import InvalidOption, NoDataError, RevintelError
from revintel.core.vocabulary import DIMENSION_OPTIONS

if TYPE_CHECKING:  # the metrics service imports Ibis and PyArrow: not for --help
    from revintel.core.runtime import Runtime
    from revintel.metrics.service import MetricQuery, Row, Summary

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

Fetch = Callable[["Runtime", "MetricQuery"], list["Row"]]


def _service(name: str) -> Fetch:
    """The metrics service function ``name``, imported when a report runs."""

    def fetch(ctx: Runtime, query: MetricQuery) -> list[Row]:
        from revintel.metrics import service

        return getattr(service, name)(ctx, query)

    return fetch


@dataclass(frozen=True)
class MetricReport:
    """One metric report: where its rows come from and what they mean.

    ``columns`` are the metric columns shown (``(source column, shown as)``), after ``month`` (or
    ``cohort``, ``age``) and the breakdown; a source ``<column>_reason`` goes along as
    ``<shown>_reason``. ``columns=None`` keeps every column the service returns.
    """

    label: str
    anchor: str
    fetch: Fetch
    columns: tuple[tuple[str, str], ...] | None
    breakdown: Literal["any", "channel", "none"] = "any"
    keys: tuple[str, ...] = ("month",)
    table_columns: tuple[str, ...] | None = None  # in a terminal table; None: every column

    @property
    def definition(self) -> str:
        return f"{DOC}#{self.anchor}"


def _same(*names: str) -> tuple[tuple[str, str], ...]:
    return tuple((n, n) for n in names)


REPORTS: dict[str, MetricReport] = {
    "mrr": MetricReport(
        "MRR",
        "mrr",
        _service("mrr_movements"),
        _same("mrr", "arr", "customers", "arpa", "mrr_mom", "mrr_yoy", "mrr_cmgr"),
        table_columns=("mrr", "arr", "customers", "arpa", "mrr_mom", "mrr_yoy"),
    ),
    "movements": MetricReport(
        "MRR movements",
        "mrr-movements",
        _service("mrr_movements"),
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
        _service("mrr_movements"),
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
        _service("retention"),
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
        _service("cohorts"),
        None,
        keys=("cohort", "age", "month"),
        table_columns=("cohort_customers", "customers", "logo_retention", "revenue_retention"),
    ),
    "conversion": MetricReport(
        "Trial-to-paid conversion",
        "trial-to-paid-conversion",
        _service("trial_conversion"),
        None,
    ),
    "revenue": MetricReport(
        "Cash collected (revenue)",
        "revenue",
        _service("revenue"),
        None,
        table_columns=("revenue", "successful_payments", "revenue_mom", "revenue_yoy"),
    ),
    "finance": MetricReport(
        "Revenue, costs and margins",
        "gross-margin-and-contribution",
        _service("financials"),
        None,
        table_columns=(
            "revenue",
            "infra_cost",
            "support_cost",
            "marketing_cost",
            "gross_margin",
            "contribution",
        ),
        breakdown="none",
    ),
    "cac": MetricReport(
        "CAC and payback",
        "cac-and-payback",
        _service("acquisition"),
        None,
        breakdown="channel",
    ),
    "ltv": MetricReport(
        "LTV",
        "ltv",
        _service("ltv"),
        None,
    ),
}


@dataclass(frozen=True)
class ReportRows:
    """A report's rows over its months, each carrying its ``definition`` link."""

    metric: str
    label: str
    definition: str
    by: str | None
    filters: dict[str, list[str]]
    from_month: str | None
    to_month: str | None
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def report(self) -> MetricReport:
        return REPORTS[self.metric]

    def to_dict(self) -> dict[str, Any]:
        """The JSON answer: ``metric``, ``label``, ``definition``, ``by``, ``filters``, ``from``,
        ``to``, ``rows``."""
        return {
            "metric": self.metric,
            "label": self.label,
            "definition": self.definition,
            "by": self.by,
            "filters": self.filters,
            "from": self.from_month,
            "to": self.to_month,
            "rows": self.rows,
        }


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
        raise InvalidOption(
            f"{field} = {by!r} is not a breakdown; expected one of {', '.join(BY_NAMES)}"
        )
    return FILTER_DIMENSIONS.get(by, by)


def metric_report(
    ctx: Runtime,
    name: str,
    *,
    start: str | None = None,
    end: str | None = None,
    by: str | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
    field_names: Mapping[str, str] | None = None,
) -> ReportRows:
    """One report's rows over ``start``..``end``, each carrying its ``definition`` link.

    ``filters`` are keyed by filter option (``channel``, not ``acquisition_channel``);
    ``field_names`` say how the caller spells ``start``, ``end`` and ``by`` in error messages
    (``--from`` on the command line, ``from`` in the API). A metric whose table was never loaded
    raises :class:`~revintel.core.errors.NoDataError` naming the metric and the table.
    """
    from revintel.metrics.options import check_filter_values
    from revintel.metrics.service import MetricQuery

    names = {"start": "from", "end": "to", "by": "by", **(field_names or {})}
    if name not in REPORTS:
        raise InvalidOption(f"metric {name!r} is unknown; expected one of {', '.join(REPORTS)}")
    report = REPORTS[name]
    start = check_month(start, names["start"])
    end = check_month(end, names["end"])
    dimension = check_by(by, names["by"])
    unknown = [k for k in (filters or {}) if k not in FILTER_DIMENSIONS]
    if unknown:
        raise InvalidOption(
            f"filter {unknown[0]!r} is unknown; expected one of {', '.join(FILTER_DIMENSIONS)}"
        )
    checked = {
        FILTER_DIMENSIONS[k]: check_filter_values(k, v) for k, v in (filters or {}).items() if v
    }
    query = MetricQuery(start=start, end=end)
    if report.breakdown == "none":
        if dimension or checked:
            raise InvalidOption(f"{report.label} ({name}) has no breakdown or filters")
    elif report.breakdown == "channel":
        if checked or dimension not in (None, "acquisition_channel"):
            raise InvalidOption(
                f"{names['by']}: {report.label} ({name}) can only be broken down by channel "
                "and takes no filters"
            )
        query = query.but(by=dimension)
    else:
        query = query.but(by=dimension, filters=checked or None)
    try:
        raw = report.fetch(ctx, query)
    except NoDataError as exc:
        raise NoDataError(f"{report.label} ({name}) cannot be computed: {exc}") from exc
    rows = [_shape(row, report, dimension) for row in raw]
    return ReportRows(
        metric=name,
        label=report.label,
        definition=report.definition,
        by=dimension,
        filters=checked,
        from_month=rows[0][report.keys[0]] if rows else start,
        to_month=max((r["month"] for r in rows), default=end),
        rows=rows,
    )


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


def headlines(ctx: Runtime) -> Summary:
    """The latest complete month's headline figures (:func:`revintel.metrics.service.headlines`)."""
    from revintel.metrics import service

    return service.summary(ctx)


# -- the series registry ------------------------------------------------------------------------
SERIES_ANCHORS = {
    "mrr": "mrr",
    "revenue": "revenue",
    "paying_customers": "paying-customers",
    "new_mrr": "mrr-movements",
    "churned_mrr": "mrr-movements",
}
"""Forecastable series -> the section of docs/metrics.md that defines it."""


def series_rows(ctx: Runtime, series: str) -> list[Row]:
    """The monthly rows a forecastable series is read from (``forecast.service.SERIES``): MRR and
    revenue with the parts their anomalies are judged by, the others from the movements."""
    from revintel.forecast.service import SERIES
    from revintel.metrics import service

    if series not in SERIES:
        raise RevintelError(
            f"series: unknown series {series!r}; expected one of {', '.join(SERIES)}"
        )
    if series == "revenue":
        try:
            return service.rows_with_drivers(ctx, "revenue")
        except NoDataError as exc:
            raise NoDataError(f"Revenue cannot be forecast: {exc}") from exc
    if series == "mrr":
        return service.rows_with_drivers(ctx, "mrr")
    return service.mrr_movements(ctx)
