"""Forecasts and anomalies for the monthly SaaS metrics, for the CLI, the API and the dashboard.

These functions take the monthly metric rows the metrics engine returns (one dict per month with a
``month`` key, ``'YYYY-MM'``, and one key per metric), pick the metric's column from
:data:`SERIES`, and call the pure functions in :mod:`revintel.forecast`. They do no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from revintel.core.errors import RevintelError
from revintel.forecast.anomalies import (
    DEFAULT_MOM_THRESHOLD,
    DETECTORS,
    Anomaly,
    detect_anomalies,
)
from revintel.forecast.drivers import driver_anomalies
from revintel.forecast.forecasting import ForecastResult, forecast_series
from revintel.warehouse.cache import ResultCache

MetricSeries = Literal["mrr", "revenue", "paying_customers", "new_mrr", "churned_mrr"]


@dataclass(frozen=True)
class SeriesSpec:
    """Where a forecastable metric lives in the monthly rows, and how to name it to a user.

    ``columns`` are tried in order; the first one present in the rows is used.
    """

    label: str
    columns: tuple[str, ...]


SERIES: dict[MetricSeries, SeriesSpec] = {
    "mrr": SeriesSpec("MRR", ("mrr",)),
    "revenue": SeriesSpec("Revenue", ("revenue",)),
    "paying_customers": SeriesSpec("Paying customers", ("paying_customers", "customers")),
    "new_mrr": SeriesSpec("New MRR", ("new_mrr", "new")),
    "churned_mrr": SeriesSpec("Churned MRR", ("churned_mrr", "churn_mrr", "churn")),
}
"""The one mapping from forecastable series to the metrics engine's columns."""

HORIZON_MIN, HORIZON_MAX = 3, 6
"""Forecast horizons the product offers, in months (issue 3: 3 to 6 months ahead, default 6)."""

MONTH_COLUMN = "month"


def forecast_metric(
    rows: Sequence[Mapping[str, Any]],
    series: MetricSeries,
    horizon: int = 6,
    *,
    levels: Sequence[int] = (80, 95),
) -> ForecastResult:
    """Forecast one metric ``horizon`` months ahead (3 to 6) from the monthly metric rows."""
    if not isinstance(horizon, int) or not HORIZON_MIN <= horizon <= HORIZON_MAX:
        raise RevintelError(
            f"horizon: expected {HORIZON_MIN} to {HORIZON_MAX} months, got {horizon!r}"
        )
    label, months, values = _series_from_rows(rows, series)
    key = (series, horizon, tuple(levels), tuple(months), tuple(values))
    return _FORECASTS.get(
        key,
        lambda: forecast_series(values, months, horizon=horizon, levels=levels, series=label),
    )


# The same rows give the same forecast (the model search is deterministic): remembered for the
# process, so a dashboard's forecast is computed once per data and filters (and the server can
# compute the landing page's before the first visitor arrives, revintel.ui.server). The key holds
# the data itself (every month and value), not a warehouse's data version: these functions read
# no warehouse, so the snapshot-keyed cache (warehouse/cache.SnapshotCache) does not apply, but
# its thread-safe, compute-once map does.
_FORECASTS: ResultCache[ForecastResult] = ResultCache(64)


def metric_anomalies(
    rows: Sequence[Mapping[str, Any]],
    series: MetricSeries,
    *,
    mom_threshold: float = DEFAULT_MOM_THRESHOLD,
    level: int = 95,
    model: str | None = None,
) -> list[Anomaly]:
    """Anomalous months of one metric by the rule and statistical detectors.

    For MRR and revenue rows that carry their parts (movements and their spread, collections:
    :mod:`revintel.metrics.drivers`), the statistical detector judges each month by its parts
    (:mod:`revintel.forecast.drivers`) unless a ``model`` is asked for; otherwise it judges the
    series alone against its model's in-sample band (:mod:`revintel.forecast.anomalies`).
    """
    try:
        key: tuple[Any, ...] | None = (
            series, mom_threshold, level, model, tuple(tuple(sorted(r.items())) for r in rows)
        )  # fmt: skip
        hash(key)
    except TypeError:  # a row holding an unhashable value: computed, not remembered
        key = None

    def compute() -> list[Anomaly]:
        return _metric_anomalies(
            rows, series, mom_threshold=mom_threshold, level=level, model=model
        )

    return list(compute() if key is None else _ANOMALIES.get(key, compute))


# The same rows give the same flags: remembered like forecasts (each call ran the sequential
# detectors over every month again, ~25 ms of an otherwise cached API answer).
_ANOMALIES: ResultCache[list[Anomaly]] = ResultCache(64)


def _metric_anomalies(
    rows: Sequence[Mapping[str, Any]],
    series: MetricSeries,
    *,
    mom_threshold: float,
    level: int,
    model: str | None,
) -> list[Anomaly]:
    label, months, values = _series_from_rows(rows, series)
    by_parts = None
    if model is None and series in ("mrr", "revenue"):
        ordered = sorted(rows, key=lambda r: str(r.get(MONTH_COLUMN)))
        by_parts = driver_anomalies(ordered, series, label=label, level=level)  # type: ignore[arg-type]
    found = detect_anomalies(
        values,
        months,
        series=label,
        mom_threshold=mom_threshold,
        level=level,
        model=model,
        detectors=DETECTORS if by_parts is None else ("rule",),
    )
    if by_parts is None:
        return found
    return sorted([*found, *by_parts], key=lambda a: (a.month, DETECTORS.index(a.detector)))


def _series_from_rows(
    rows: Sequence[Mapping[str, Any]], series: str
) -> tuple[str, list[Any], list[Any]]:
    if series not in SERIES:
        expected = ", ".join(get_args(MetricSeries))
        raise RevintelError(f"series: unknown series {series!r}; expected one of {expected}")
    spec = SERIES[series]  # type: ignore[index]
    if not rows:
        raise RevintelError(f"{spec.label}: no monthly metric rows to forecast")
    present = set().union(*(r.keys() for r in rows))
    if MONTH_COLUMN not in present:
        raise RevintelError(
            f"{spec.label}: the metric rows have no {MONTH_COLUMN!r} column; "
            f"got {', '.join(sorted(present))}"
        )
    column = next((c for c in spec.columns if c in present), None)
    if column is None:
        raise RevintelError(
            f"{spec.label}: the metric rows have none of the columns "
            f"{', '.join(repr(c) for c in spec.columns)}; got {', '.join(sorted(present))}"
        )
    months = [r.get(MONTH_COLUMN) for r in rows]
    seen: set[Any] = set()
    for month in months:
        if month in seen:
            raise RevintelError(
                f"{spec.label}: more than one row for month {month}; rows broken down by a "
                "dimension must be forecast one segment at a time"
            )
        seen.add(month)
    values = [r.get(column) for r in rows]
    values = [float("nan") if v is None else v for v in values]
    return spec.label, months, values
