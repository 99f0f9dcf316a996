"""The executive report: headline KPIs, MRR movements, forecast, anomalies, churn risk, campaign
results, pipeline and attribution summaries and a narrative, as HTML, PDF or PowerPoint
(docs/retention.md, Executive report).

:func:`executive_report` gathers the figures of one month from the services every other face uses,
so each equals what the command line prints for the same month:

* KPIs and movements: :func:`revintel.app.reports.metric_report` (``revintel metrics mrr``,
  ``movements``, ``churn`` and ``retention --from M --to M``; for the last complete month they are
  also ``revintel metrics summary``'s);
* forecast and anomalies: :func:`revintel.app.outlooks.outlook` on the MRR rows up to the month, as
  the Executive Overview page draws them (``revintel forecast mrr`` for the last complete month);
* churn risk: :func:`revintel.churn.service.overview` and ``current_predictions`` (``revintel
  churn predictions``); capital at risk: :func:`revintel.health.service.portfolio_summary`
  (``revintel health summary --month M``);
* campaigns: :func:`revintel.app.retention.impact.intervention_impact`;
* pipeline: :func:`revintel.pipeline.service.analytics.summary` (``revintel pipeline summary``);
* attribution: :func:`revintel.attribution.service.report.report` and ``roi.channel_roi``
  (``revintel attribution report --model markov`` and ``roi`` over the quarter to the month).

A section whose data is not loaded carries what is missing and how to load it
(:class:`Missing`); the narrative (:mod:`revintel.app.retention.executive_narrative`) only speaks
of the sections present. :func:`render` turns a report into HTML, PDF or PowerPoint
(:mod:`revintel.app.retention.executive_render`).
"""

from __future__ import annotations

__all__ = [
    "FORMATS",
    "KPI_NAMES",
    "AtRiskAccount",
    "AttributionSection",
    "CampaignLine",
    "CampaignSection",
    "ChannelLine",
    "ExecutiveReport",
    "FlaggedMonth",
    "ForecastPoint",
    "ForecastSection",
    "Format",
    "Kpi",
    "Missing",
    "Movements",
    "PipelineSection",
    "RiskSection",
    "executive_report",
    "file_name",
    "render",
    "report_months",
]

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar, get_args

from revintel.core.calendar import MonthsOutsideTheData, month_label, month_last_day, month_number
from revintel.core.errors import NoDataError, OutsideTheData, RevintelError

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime

_LOG = logging.getLogger(__name__)
Format = Literal["html", "pdf", "pptx", "json"]
FORMATS: tuple[str, ...] = get_args(Format)
MEDIA_TYPES: dict[str, str] = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "json": "application/json",
}
"""Each format's media type, for the API's answer and a download button."""

KPI_NAMES: tuple[str, ...] = (
    "mrr",
    "arr",
    "customers",
    "arpa",
    "nrr_monthly",
    "grr_monthly",
    "nrr_t12m",
    "grr_t12m",
    "logo_churn_rate",
    "gross_mrr_churn_rate",
    "net_mrr_churn_rate",
    "quick_ratio",
)
"""The headline KPIs, in the order the report shows them (definitions: docs/metrics.md)."""

# KPI -> the metric report (``revintel metrics <report>``) and its column that holds it.
_KPI_SOURCES: dict[str, tuple[str, str]] = {
    "mrr": ("mrr", "mrr"),
    "arr": ("mrr", "arr"),
    "customers": ("mrr", "customers"),
    "arpa": ("mrr", "arpa"),
    "nrr_monthly": ("retention", "nrr_monthly"),
    "grr_monthly": ("retention", "grr_monthly"),
    "nrr_t12m": ("retention", "nrr_t12m"),
    "grr_t12m": ("retention", "grr_t12m"),
    "logo_churn_rate": ("churn", "logo_churn_rate"),
    "gross_mrr_churn_rate": ("churn", "gross_mrr_churn_rate"),
    "net_mrr_churn_rate": ("churn", "net_mrr_churn_rate"),
    "quick_ratio": ("movements", "quick_ratio"),
}
MOVEMENT_NAMES: tuple[str, ...] = ("new", "expansion", "reactivation", "contraction", "churn")
"""MRR movements: the first three add MRR, contraction and churn remove it."""
FORECAST_HORIZON = 6
TREND_MONTHS = 24  # months of MRR history drawn before the forecast
MOVEMENT_MONTHS = 12  # months of movements drawn
ANOMALY_MONTHS = 12  # flagged months listed: the year to the report month
ATTRIBUTION_MONTHS = 3  # attribution and ROI cover the quarter to the report month
ATTRIBUTION_MODEL = "markov"
FORECAST_BESIDE = os.environ.get("REVINTEL_REPORT_FORECAST_THREAD", "0") == "1"
"""Whether the forecast's model search runs on a thread beside the other sections' queries. Off:
measured at 100k customers (docs/retention.md, Executive report → Speed) the search holds the
interpreter so much that the risk section's Python waits for it (17.6 s against 10.9 s)."""
NO_SUBSCRIPTIONS = (
    "The executive report needs MRR, read from the subscriptions table, which has not been "
    "loaded: load customers.csv and subscriptions.csv with `revintel load FOLDER` (or the Data "
    "page), or generate a demo company with `revintel demo`."
)


# -- the report's parts ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Missing:
    """A section that could not be drawn: which, why and how to get it."""

    section: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Kpi:
    """One headline figure of the month, the month before and the change.

    ``unit``: ``currency``, ``count``, ``ratio`` (a share: its change is in points) or
    ``multiple``; ``change_pct`` is given for amounts and counts (as ``revintel metrics summary``);
    ``reason`` says why ``value`` is undefined.
    """

    name: str
    label: str
    unit: str
    value: float | None
    previous: float | None
    change: float | None
    change_pct: float | None
    reason: str | None
    definition: str
    source: str  # the command that prints it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Movements:
    """The month's MRR movements (``revintel metrics movements``), and the year before's months
    for the chart (``history``: one dict per month with the five movements and ``mrr``)."""

    month: str
    mrr: float
    mrr_previous: float | None
    new: float
    expansion: float
    contraction: float
    churn: float
    reactivation: float
    net_new_mrr: float
    new_customers: int
    expansion_customers: int
    contraction_customers: int
    churned_customers: int
    reactivated_customers: int
    history: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ForecastPoint:
    """One forecast month: the mean and the 80% and 95% intervals."""

    month: str
    mean: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float


@dataclass(frozen=True, slots=True)
class ForecastSection:
    """MRR after the report month: the chosen model, its backtest and the months ahead, with the
    MRR history the chart draws before it."""

    series: str
    model: str
    model_detail: str | None
    reason: str
    backtest_mape: float | None
    backtest_mase: float | None
    horizon: int
    points: list[ForecastPoint]
    history: list[dict[str, Any]]  # {"month", "mrr"} up to the report month
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class FlaggedMonth:
    """A month the statistical detector flagged: outside the model's 95% band."""

    month: str
    metric: str
    actual: float | None
    expected: float | None
    size: float | None
    direction: str | None
    reason: str
    driver: str | None  # the movement or part that broke its band, when judged by its parts
    driver_actual: float | None
    driver_expected: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class AtRiskAccount:
    """One account at risk: its latest churn prediction and what to do."""

    account_id: str
    name: str | None
    segment: str | None
    owner: str | None
    mrr: float | None
    churn_risk: float
    risk_tier: str
    mrr_at_risk: float | None  # MRR × churn risk
    top_factor: str | None
    recommended_action: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class RiskSection:
    """Churn risk from the latest predictions and capital at risk from the month's health scores;
    either part may be absent (``None``) with the other present."""

    scored_at: str | None
    customers: int | None
    tiers: dict[str, int] | None
    tier_rule: str | None
    average_risk: float | None
    predicted_churners: int | None
    expected_churners: float | None
    expected_mrr_lost: float | None
    model_versions: list[str]
    health_month: str | None
    total_arr: float | None
    capital_at_risk: float | None
    capital_at_risk_share: float | None
    arr_by_health_tier: dict[str, float] | None
    accounts_by_health_tier: dict[str, int] | None
    top_accounts: list[AtRiskAccount]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class CampaignLine:
    """One campaign's measured impact, as the impact area reports it."""

    name: str
    template: str | None
    status: str | None
    treated: int | None
    holdout: int | None
    uplift: float | None  # churn of holdout − churn of treated (a share)
    uplift_low: float | None
    uplift_high: float | None
    p_value: float | None
    saves: float | None
    cost: float | None
    roi: float | None  # net return: saves × average CLV − cost (docs/retention.md)
    months_remaining: int | None = None  # an unfinished campaign's wait for its outcome

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class CampaignSection:
    """Campaign results across finished campaigns (:func:`~revintel.app.retention.impact.
    intervention_impact`)."""

    campaigns: list[CampaignLine]
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class PipelineSection:
    """The open pipeline as of the deals' latest date (``revintel pipeline summary``)."""

    as_of: str
    open_pipeline: float
    deal_count: int
    avg_deal_size: float | None
    win_rate: float | None
    won_deals: int
    closed_deals: int
    weighted_forecast: float | None
    forecast_days: int
    at_risk_deals: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ChannelLine:
    """One channel's Markov credit and, when spend is loaded, its ROI."""

    channel: str
    conversions: float
    share: float
    value: float
    removal_effect: float | None
    spend: float | None
    cac: float | None
    roi: float | None


@dataclass(frozen=True, slots=True)
class AttributionSection:
    """Markov attribution over the quarter to the report month, top channels first."""

    start: str
    end: str
    model: str
    conversions: float
    value: float
    channels: list[ChannelLine]
    spend: float | None
    roi_note: str | None  # why ROI is absent, when it is

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ExecutiveReport:
    """One month's executive report: every figure, the sections missing and the narrative."""

    company_name: str
    month: str
    previous_month: str | None
    data_from: str
    data_to: str
    as_of: date
    generated_at: datetime
    kpis: dict[str, Kpi]
    movements: Movements
    forecast: ForecastSection | None
    anomalies: list[FlaggedMonth] | None
    risk: RiskSection | None
    campaigns: CampaignSection | None
    pipeline: PipelineSection | None
    attribution: AttributionSection | None
    missing: list[Missing]
    narrative: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per section

    @property
    def month_title(self) -> str:
        """``June 2025``."""
        return date.fromisoformat(f"{self.month}-01").strftime("%B %Y")

    def missing_of(self, section: str) -> Missing | None:
        return next((m for m in self.missing if m.section == section), None)

    def to_dict(self) -> dict[str, Any]:
        """Every figure as JSON-ready values (dates as ISO text)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "kpis":
                out[f.name] = {k: v.to_dict() for k, v in value.items()}
            elif f.name in ("as_of", "generated_at"):
                out[f.name] = value.isoformat()
            elif f.name in ("anomalies", "missing"):
                out[f.name] = None if value is None else [v.to_dict() for v in value]
            elif value is not None and hasattr(value, "to_dict"):
                out[f.name] = value.to_dict()
            else:
                out[f.name] = value
        out["month_title"] = self.month_title
        return out


# -- building it -----------------------------------------------------------------------------------
T = TypeVar("T")


def executive_report(rt: Runtime, month: str | None = None) -> ExecutiveReport:
    """The report's figures and narrative for ``month`` (``YYYY-MM``; default: the last complete
    month).

    Raises :class:`~revintel.core.errors.NoDataError` when no subscriptions are loaded (MRR is the
    report's spine) and :class:`~revintel.core.calendar.MonthsOutsideTheData` naming the month and
    the data's complete months when ``month`` is outside them. Every other section missing its
    data is listed in ``missing`` with how to load it.
    """
    from revintel.app.retention.executive_narrative import narrative
    from revintel.metrics import service as metrics
    from revintel.retention.config import load_config

    if not rt.warehouse.has_table("subscriptions"):
        raise NoDataError(NO_SUBSCRIPTIONS)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    whole = metrics.period(rt)
    chosen = _check_month(month, whole.from_month, whole.to_month, whole.as_of)
    number = month_number(chosen)
    previous = month_label(number - 1) if number > whole.first else None
    config = load_config(rt.settings).report
    missing: list[Missing] = []

    kpis, movements = _kpis_and_movements(rt, chosen, previous)
    timings["kpis"] = time.perf_counter() - started
    series = _timed(timings, "forecast rows", lambda: _series_rows(rt, chosen))
    # The model search is Python on rows already read: with FORECAST_BESIDE it runs on a thread
    # of its own while this one queries the warehouse (the connection stays on one thread).
    with ThreadPoolExecutor(1, thread_name_prefix="executive-forecast") as pool:
        outlook = (
            pool.submit(_timed, timings, "forecast", lambda: _outlook(series))
            if FORECAST_BESIDE
            else None
        )
        risk = _timed(timings, "risk", lambda: _risk(rt, chosen, config.top_accounts, missing))
        campaigns = _timed(timings, "campaigns", lambda: _campaigns(rt, missing))
        pipeline = _timed(timings, "pipeline", lambda: _pipeline(rt, missing))
        attribution = _timed(timings, "attribution", lambda: _attribution(rt, number, missing))
        forecast, anomalies, outlook_missing = (
            outlook.result()
            if outlook is not None
            else _timed(timings, "forecast", lambda: _outlook(series))
        )
    missing[:0] = outlook_missing  # in the report's order: forecast and anomalies first
    report = ExecutiveReport(
        company_name=config.company_name,
        month=chosen,
        previous_month=previous,
        data_from=whole.from_month,
        data_to=whole.to_month,
        as_of=whole.as_of,
        generated_at=datetime.now(UTC).replace(microsecond=0),
        kpis=kpis,
        movements=movements,
        forecast=forecast,
        anomalies=anomalies,
        risk=risk,
        campaigns=campaigns,
        pipeline=pipeline,
        attribution=attribution,
        missing=missing,
        timings=timings,
    )
    report.narrative.extend(narrative(report))
    timings["total"] = time.perf_counter() - started
    return report


def _timed(timings: dict[str, float], name: str, step: Callable[[], T]) -> T:
    started = time.perf_counter()
    try:
        return step()
    finally:
        timings[name] = time.perf_counter() - started


def _check_month(month: str | None, first: str, last: str, as_of: date) -> str:
    """``month`` checked against the data's complete months (default: the last)."""
    if month is None or not month.strip():
        return last
    number = month_number(month, "month")  # InvalidOption naming the field when malformed
    if not month_number(first) <= number <= month_number(last):
        raise MonthsOutsideTheData(
            f"month {month.strip()}: the executive report covers a complete month of the data; "
            f"expected a month from {first} to {last} (the data runs to {as_of})"
        )
    return month_label(number)


def _rows_by_month(rt: Runtime, name: str, start: str, end: str) -> dict[str, dict[str, Any]]:
    from revintel.app.reports import metric_report

    return {str(r["month"]): r for r in metric_report(rt, name, start=start, end=end).rows}


def _kpis_and_movements(
    rt: Runtime, month: str, previous: str | None
) -> tuple[dict[str, Kpi], Movements]:
    from revintel.metrics.definitions import DEFINITIONS

    start = month_label(month_number(month) - MOVEMENT_MONTHS + 1)
    reports = {
        name: _rows_by_month(rt, name, start, month)
        for name in ("mrr", "movements", "churn", "retention")
    }
    kpis: dict[str, Kpi] = {}
    for name in KPI_NAMES:
        report, column = _KPI_SOURCES[name]
        definition = DEFINITIONS[name]
        now = reports[report].get(month, {})
        before = reports[report].get(previous, {}) if previous else {}
        value, prior = _number(now.get(column)), _number(before.get(column))
        unit = "multiple" if name == "quick_ratio" else definition.unit
        change = value - prior if value is not None and prior is not None else None
        change_pct = None
        if unit in ("currency", "count") and change is not None and prior:
            change_pct = value / prior - 1.0  # type: ignore[operator]
        kpis[name] = Kpi(
            name=name,
            label=definition.label,
            unit=unit,
            value=value,
            previous=prior,
            change=change,
            change_pct=change_pct,
            reason=now.get(f"{column}_reason") if value is None else None,
            definition=definition.link,
            source=f"revintel metrics {report} --from {month} --to {month}",
        )
    rows = reports["movements"]
    row = rows[month]
    history = [
        {"month": m, "mrr": r["mrr"], **{n: r[n] for n in MOVEMENT_NAMES}}
        for m, r in sorted(rows.items())
    ]
    movements = Movements(
        month=month,
        mrr=float(row["mrr"]),
        mrr_previous=_number(row.get("mrr_previous")),
        new=float(row["new"]),
        expansion=float(row["expansion"]),
        contraction=float(row["contraction"]),
        churn=float(row["churn"]),
        reactivation=float(row["reactivation"]),
        net_new_mrr=float(row["net_new_mrr"]),
        new_customers=int(row["new_customers"]),
        expansion_customers=int(row["expansion_customers"]),
        contraction_customers=int(row["contraction_customers"]),
        churned_customers=int(row["churned_customers"]),
        reactivated_customers=int(row["reactivated_customers"]),
        history=history,
    )
    return kpis, movements


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return number if number == number and abs(number) != float("inf") else None


@dataclass(frozen=True)
class _SeriesRows:
    """What the forecast and the anomaly flags read from the warehouse, fetched before the model
    search so that the search (Python, no warehouse) runs beside the other sections' queries."""

    month: str
    mrr: list[dict[str, Any]]
    mrr_drivers: list[dict[str, Any]]
    revenue_drivers: list[dict[str, Any]] | None
    revenue_error: str | None


def _series_rows(rt: Runtime, month: str) -> _SeriesRows:
    from revintel.metrics import service as metrics

    query = metrics.MetricQuery(end=month)
    revenue: list[dict[str, Any]] | None = None
    error = None
    if rt.warehouse.has_table("payments"):
        try:
            revenue = list(metrics.rows_with_drivers(rt, "revenue", query))
        except RevintelError as exc:
            error = str(exc)
    return _SeriesRows(
        month=month,
        mrr=list(metrics.mrr_movements(rt, query)),
        mrr_drivers=list(metrics.rows_with_drivers(rt, "mrr", query)),
        revenue_drivers=revenue,
        revenue_error=error,
    )


def _outlook(
    series: _SeriesRows,
) -> tuple[ForecastSection | None, list[FlaggedMonth], list[Missing]]:
    """The MRR forecast after the month and the flagged months of MRR (and cash collected, when
    payments are loaded) in the year to it, as the Executive Overview page computes them with the
    month as the end of its range (:func:`revintel.app.outlooks.outlook`)."""
    from revintel.app.outlooks import outlook
    from revintel.forecast.service import metric_anomalies

    month, rows, missing = series.month, series.mrr, []
    result = outlook(rows, "mrr", FORECAST_HORIZON, lambda: series.mrr_drivers)
    forecast = None
    if result.forecast is None:
        missing.append(Missing("forecast", f"No MRR forecast: {result.forecast_error}"))
    else:
        f = result.forecast
        points = [
            ForecastPoint(
                month=str(p["month"]),
                mean=float(p["mean"]),
                lo80=float(p["lo80"]),
                hi80=float(p["hi80"]),
                lo95=float(p["lo95"]),
                hi95=float(p["hi95"]),
            )
            for p in f.to_dict()["forecast"]
        ]
        first_shown = month_label(month_number(month) - TREND_MONTHS + 1)
        forecast = ForecastSection(
            series="mrr",
            model=f.model,
            model_detail=f.model_detail,
            reason=f.reason,
            backtest_mape=f.backtest_mape,
            backtest_mase=f.backtest_mase,
            horizon=f.horizon,
            points=points,
            history=[
                {"month": str(r["month"]), "mrr": float(r["mrr"])}
                for r in rows
                if str(r["month"]) >= first_shown
            ],
            notes=list(f.notes),
        )
    flagged: list[FlaggedMonth] = []
    if result.anomalies_error:
        missing.append(Missing("anomalies", f"No anomaly detection: {result.anomalies_error}"))
    found = [("mrr", a) for a in result.anomalies]
    if series.revenue_error is not None:
        missing.append(Missing("anomalies", f"Cash collected not checked: {series.revenue_error}"))
    elif series.revenue_drivers is not None:
        try:
            found += [("revenue", a) for a in metric_anomalies(series.revenue_drivers, "revenue")]
        except RevintelError as exc:
            missing.append(Missing("anomalies", f"Cash collected not checked: {exc}"))
    first_listed = month_label(month_number(month) - ANOMALY_MONTHS + 1)
    for metric, a in found:
        if a.detector != "statistical" or not first_listed <= a.month <= month:
            continue
        flagged.append(
            FlaggedMonth(
                month=a.month,
                metric=metric,
                actual=_number(a.actual),
                expected=_number(a.expected),
                size=_number(a.size),
                direction=a.direction,
                reason=a.reason,
                driver=a.driver,
                driver_actual=_number(a.driver_actual),
                driver_expected=_number(a.driver_expected),
            )
        )
    flagged.sort(key=lambda f: (f.month, f.metric), reverse=True)
    return forecast, flagged, missing


def _risk(rt: Runtime, month: str, top: int, missing: list[Missing]) -> RiskSection | None:
    """Churn risk (latest predictions) and capital at risk (the month's health scores)."""
    import polars as pl

    from revintel.churn import service as churn
    from revintel.health import service as health

    overview = None
    accounts: list[AtRiskAccount] = []
    try:
        latest = churn.current_predictions(rt)
        overview = churn.overview(rt, latest)
        ranked = latest.with_columns(
            _at_risk=pl.col("mrr").fill_null(0.0) * pl.col("churn_risk_score")
        ).sort(["_at_risk", "churn_risk_score"], descending=True, nulls_last=True)
        if ranked["mrr"].null_count() == ranked.height:  # imported scores carry no MRR
            ranked = latest
        for r in ranked.head(top).iter_rows(named=True):
            mrr = _number(r.get("mrr"))
            accounts.append(
                AtRiskAccount(
                    account_id=str(r["account_id"]),
                    name=r.get("account_name"),
                    segment=r.get("segment"),
                    owner=r.get("owner"),
                    mrr=mrr,
                    churn_risk=float(r["churn_risk_score"]),
                    risk_tier=str(r["risk_tier"]),
                    mrr_at_risk=None if mrr is None else mrr * float(r["churn_risk_score"]),
                    top_factor=r.get("top_factor_label"),
                    recommended_action=r.get("recommended_action"),
                )
            )
    except NoDataError as exc:
        missing.append(Missing("churn risk", str(exc)))
    portfolio = None
    try:
        portfolio = health.portfolio_summary(health.score_month(rt, month))
    except (NoDataError, OutsideTheData) as exc:
        missing.append(Missing("capital at risk", f"No health scores for {month}: {exc}"))
    if overview is None and portfolio is None:
        return None
    return RiskSection(
        scored_at=overview.scored_at if overview else None,
        customers=overview.customers if overview else None,
        tiers=dict(overview.tiers) if overview else None,
        tier_rule=overview.tier_rule if overview else None,
        average_risk=overview.average_risk if overview else None,
        predicted_churners=overview.predicted_churners if overview else None,
        expected_churners=overview.expected_churners if overview else None,
        expected_mrr_lost=overview.expected_mrr_lost if overview else None,
        model_versions=list(overview.model_versions) if overview else [],
        health_month=portfolio.month if portfolio else None,
        total_arr=portfolio.total_arr if portfolio else None,
        capital_at_risk=portfolio.capital_at_risk if portfolio else None,
        capital_at_risk_share=portfolio.capital_at_risk_share if portfolio else None,
        arr_by_health_tier=dict(portfolio.arr_by_tier) if portfolio else None,
        accounts_by_health_tier=dict(portfolio.accounts_by_tier) if portfolio else None,
        top_accounts=accounts,
    )


def _campaigns(rt: Runtime, missing: list[Missing]) -> CampaignSection | None:
    """Campaign results from the impact area; absent (and said) when it has none."""
    from revintel.app.retention import impact

    try:
        result = impact.intervention_impact(rt)
    except NoDataError as exc:
        missing.append(Missing("campaigns", str(exc)))
        return None
    lines = [_campaign_line(c) for c in _campaign_rows(result)]
    if not lines:
        missing.append(
            Missing(
                "campaigns",
                "No campaign to report: create one in the Campaigns page (or `revintel "
                "campaigns`); its impact is measured once its outcome window has passed.",
            )
        )
        return None
    notes = [str(n) for n in _get(result, "notes") or []]
    method = _get(result, "method")
    if method:
        notes.append(f"Method: {method}")
    return CampaignSection(campaigns=lines, notes=notes)


def _get(source: Any, name: str) -> Any:
    if isinstance(source, Mapping):
        return source.get(name)
    return getattr(source, name, None)


def _campaign_rows(result: Any) -> Sequence[Any]:
    """The per-campaign rows of an intervention-impact result (a dataclass or its dict)."""
    if result is None:
        return []
    rows = getattr(result, "rows", None)
    if callable(rows):  # InterventionImpact: one flat row per campaign
        return list(rows())
    if isinstance(result, Sequence) and not isinstance(result, str | bytes):
        return result
    for name in ("campaigns", "rows", "results"):
        rows = _get(result, name)
        if rows is not None:
            return list(rows)
    return []


def _first(row: Any, *names: str) -> Any:
    for name in names:
        value = _get(row, name)
        if value is not None:
            return value
    return None


def _campaign_line(row: Any) -> CampaignLine:
    interval = _first(row, "uplift_interval", "uplift_ci", "interval")
    low = _first(row, "uplift_low", "uplift_lo", "ci_low", "low")
    high = _first(row, "uplift_high", "uplift_hi", "ci_high", "high")
    if interval is not None and low is None and len(interval) == 2:
        low, high = interval
    count = _first(row, "treated", "treated_customers", "treated_count", "n_treated")
    held = _first(row, "holdout", "holdout_customers", "holdout_count", "n_holdout")
    return CampaignLine(
        name=str(_first(row, "name", "campaign_name", "campaign", "campaign_id") or "—"),
        template=_first(row, "template", "template_name"),
        status=_first(row, "status"),
        treated=None if count is None else int(count),
        holdout=None if held is None else int(held),
        uplift=_number(_first(row, "uplift", "churn_uplift")),
        uplift_low=_number(low),
        uplift_high=_number(high),
        p_value=_number(_first(row, "p_value", "pvalue")),
        saves=_number(_first(row, "saves", "saved_customers")),
        cost=_number(_first(row, "cost", "total_cost")),
        roi=_number(_first(row, "roi")),
        months_remaining=_first(row, "months_remaining"),
    )


def _pipeline(rt: Runtime, missing: list[Missing]) -> PipelineSection | None:
    from revintel.pipeline.service import analytics

    try:
        s = analytics.summary(rt)
    except NoDataError as exc:
        missing.append(Missing("pipeline", str(exc)))
        return None
    return PipelineSection(
        as_of=s.as_of.isoformat(),
        open_pipeline=float(s.open_pipeline),
        deal_count=int(s.deal_count),
        avg_deal_size=_number(s.avg_deal_size),
        win_rate=_number(s.win_rate),
        won_deals=int(s.won_deals),
        closed_deals=int(s.closed_deals),
        weighted_forecast=_number(s.weighted_forecast_90d),
        forecast_days=int(s.forecast_days),
        at_risk_deals=int(s.at_risk_deals),
    )


def _attribution(rt: Runtime, month: int, missing: list[Missing]) -> AttributionSection | None:
    """Markov credit per channel over the quarter to the month; ROI when spend is loaded."""
    from revintel.attribution.service import report as attribution
    from revintel.attribution.service import roi

    start = date.fromisoformat(f"{month_label(month - ATTRIBUTION_MONTHS + 1)}-01")
    end = month_last_day(month)
    try:
        result = attribution.report(
            rt,
            attribution.ReportRequest(models=(ATTRIBUTION_MODEL,), start=start, end=end),
        )
    except NoDataError as exc:
        missing.append(Missing("attribution", str(exc)))
        return None
    rois: dict[str, Any] = {}
    roi_note: str | None = None
    spend: float | None = None
    try:
        by_roi = roi.channel_roi(
            rt,
            roi.RoiRequest(models=(ATTRIBUTION_MODEL,), start=start, end=end, include_clv=False),
        )
        rois = {r.channel: r for r in by_roi.rows if r.model == ATTRIBUTION_MODEL}
        spend = by_roi.spend
    except NoDataError as exc:
        roi_note = f"Channel ROI not shown: {exc}"
    rows = sorted(
        (r for r in result.rows if r.model == ATTRIBUTION_MODEL),
        key=lambda r: r.conversions,
        reverse=True,
    )
    channels = []
    for r in rows:
        line = rois.get(r.channel)
        channels.append(
            ChannelLine(
                channel=r.channel,
                conversions=float(r.conversions),
                share=float(r.share),
                value=float(r.value),
                removal_effect=_number(r.removal_effect),
                spend=_number(line.spend) if line is not None else None,
                cac=_number(line.cac) if line is not None else None,
                roi=_number(line.roi) if line is not None else None,
            )
        )
    if not channels:
        missing.append(
            Missing(
                "attribution",
                f"No conversions between {start} and {end} to attribute: load conversions.csv "
                "and touchpoints.csv covering those months.",
            )
        )
        return None
    return AttributionSection(
        start=start.isoformat(),
        end=end.isoformat(),
        model=ATTRIBUTION_MODEL,
        conversions=float(result.conversions),
        value=float(result.value),
        channels=channels,
        spend=spend,
        roi_note=roi_note,
    )


# -- rendering -------------------------------------------------------------------------------------
def render(report: ExecutiveReport, fmt: Format) -> bytes:
    """The report as an HTML page, a PDF (A4), a PowerPoint deck or its figures as JSON."""
    from revintel.app.retention import executive_render

    return executive_render.render(report, fmt)


def file_name(report: ExecutiveReport, fmt: str) -> str:
    """The download's file name: ``executive-report-2025-06.pdf``."""
    return f"executive-report-{report.month}.{fmt}"


def report_months(rt: Runtime) -> list[str]:
    """The months a report can cover, latest first (the data's complete months); NoDataError
    when no subscriptions are loaded."""
    from revintel.metrics import service as metrics

    if not rt.warehouse.has_table("subscriptions"):
        raise NoDataError(NO_SUBSCRIPTIONS)
    whole = metrics.period(rt)
    return [month_label(n) for n in range(whole.last, whole.first - 1, -1)]
