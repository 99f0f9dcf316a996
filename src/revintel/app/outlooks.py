"""Forecasts and anomaly flags on a metric series, for every face (docs/forecasting.md).

:func:`forecast_report` and :func:`find_anomalies` read a series' rows (:func:`series_rows`) and
answer ``revintel forecast``, ``revintel anomalies`` and their API routes; :func:`outlook` is the
same step on rows a page already holds (the dashboard's forecasting worker, ``ui/outlook.py``).
"""

from __future__ import annotations

__all__ = [
    "AnomalyReport",
    "AnomalySeries",
    "FlaggedMonth",
    "ForecastReport",
    "Outlook",
    "find_anomalies",
    "forecast_report",
    "outlook",
]

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from revintel.app.reports import DOC, SERIES_ANCHORS, series_rows
from revintel.core.errors import InvalidOption, NoDataError, RevintelError

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime
    from revintel.forecast.anomalies import Anomaly
    from revintel.forecast.forecasting import ForecastResult

_LOG = logging.getLogger(__name__)
AnomalySeries = Literal["mrr", "revenue"]
DEFAULT_DETECTORS = ("statistical",)
"""The detector every face uses unless asked: the statistical one, whose flags a CFO should look
at. The month-over-month rule (relative to the trend) is given on request."""
FORECAST_DEFINITION = "docs/forecasting.md#how-the-model-is-chosen"
ANOMALIES_DEFINITION = "docs/forecasting.md#anomalies"


@dataclass(frozen=True)
class ForecastReport:
    """A series' forecast with its evidence and the definitions it follows."""

    result: ForecastResult
    definition: str
    forecast_definition: str = FORECAST_DEFINITION

    def to_dict(self) -> dict[str, Any]:
        """The forecast's JSON (:meth:`ForecastResult.to_dict`) with both definition links."""
        out = self.result.to_dict()
        out["definition"] = self.definition
        out["forecast_definition"] = self.forecast_definition
        return out


def forecast_report(ctx: Runtime, series: str, horizon: int = 6) -> ForecastReport:
    """The forecast of one series, its model, backtest errors and notes."""
    from revintel.forecast.service import forecast_metric

    result = forecast_metric(series_rows(ctx, series), series, horizon)  # type: ignore[arg-type]
    return ForecastReport(result, f"{DOC}#{SERIES_ANCHORS.get(series, 'mrr')}")


@dataclass(frozen=True)
class FlaggedMonth:
    """An anomaly of one metric."""

    metric: str
    anomaly: Anomaly

    def to_dict(self) -> dict[str, Any]:
        return {**self.anomaly.to_dict(), "metric": self.metric}


@dataclass(frozen=True)
class AnomalyReport:
    """Anomalous months by the detectors asked for; ``notes`` name series skipped."""

    threshold: float
    level: int
    detectors: list[str]
    anomalies: list[FlaggedMonth]
    notes: list[str]
    definition: str = ANOMALIES_DEFINITION

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "level": self.level,
            "detectors": self.detectors,
            "anomalies": [a.to_dict() for a in self.anomalies],
            "notes": self.notes,
            "definition": self.definition,
        }


def find_anomalies(
    ctx: Runtime,
    series: Sequence[str] = ("mrr", "revenue"),
    *,
    threshold: float = 0.10,
    level: int = 95,
    detectors: Sequence[str] = DEFAULT_DETECTORS,
) -> AnomalyReport:
    """Anomalous months of MRR and revenue, each with its reason and size, by the statistical
    detector unless ``detectors`` asks for the rule too (or instead).

    A series whose table is not loaded is skipped with a note naming the table.
    """
    from revintel.forecast.anomalies import DETECTORS
    from revintel.forecast.service import SERIES, metric_anomalies

    wrong = [s for s in series if s not in get_args(AnomalySeries)]
    if wrong:
        expected = ", ".join(get_args(AnomalySeries))
        raise InvalidOption(f"series = {wrong[0]!r}; expected one of {expected}")
    wrong = [d for d in detectors if d not in DETECTORS]
    if wrong:
        raise InvalidOption(f"detector = {wrong[0]!r}; expected one of {', '.join(DETECTORS)}")
    found: list[FlaggedMonth] = []
    notes: list[str] = []
    for name in dict.fromkeys(series):
        try:
            rows = series_rows(ctx, name)
        except NoDataError as exc:
            notes.append(f"{SERIES[name].label} skipped: {exc}")  # type: ignore[index]
            continue
        for anomaly in metric_anomalies(rows, name, mom_threshold=threshold, level=level):  # type: ignore[arg-type]
            if anomaly.detector in detectors:
                found.append(FlaggedMonth(name, anomaly))
    found.sort(key=lambda a: (a.anomaly.month, a.metric, a.anomaly.detector))
    return AnomalyReport(threshold, level, list(detectors), found, notes)


# -- on rows a page holds -------------------------------------------------------------------------
@dataclass(frozen=True)
class Outlook:
    """A series' forecast and anomalies, or why there is none."""

    forecast: ForecastResult | None = None
    anomalies: list[Anomaly] = field(default_factory=list)
    forecast_error: str | None = None
    anomalies_error: str | None = None
    worker_failed: bool = False  # not computed: asking again computes it in the server


def outlook(
    rows: Sequence[Mapping[str, Any]],
    series: str,
    horizon: int,
    detail: Callable[[], Sequence[Mapping[str, Any]]] | None = None,
) -> Outlook:
    """The forecast of ``series`` in ``rows`` and its anomalies; a failure of either is said in
    the outlook, not raised.

    ``detail``, when given, reads the series' rows with their drivers
    (:func:`revintel.metrics.service.rows_with_drivers`): the anomalies are then judged by the
    parts of each month; if it fails, the series is judged on its own (and a warning logged).
    """
    from revintel.forecast.service import forecast_metric, metric_anomalies

    forecast = anomalies = None
    forecast_error = anomalies_error = None
    try:
        forecast = forecast_metric(rows, series, horizon)  # type: ignore[arg-type]
    except RevintelError as exc:
        forecast_error = str(exc)
    judged = rows
    if detail is not None:
        try:
            judged = detail()
        except Exception:  # without its drivers a series is judged on its own
            _LOG.warning("anomaly drivers of %s unavailable", series, exc_info=True)
    try:
        anomalies = metric_anomalies(judged, series)  # type: ignore[arg-type]
    except RevintelError as exc:
        anomalies_error = str(exc)
    return Outlook(forecast, anomalies or [], forecast_error, anomalies_error)
