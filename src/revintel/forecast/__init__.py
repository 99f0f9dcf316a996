"""Forecasts with intervals and anomaly detection for monthly SaaS metrics.

Pure functions on a monthly series; no warehouse I/O. Start with :func:`forecast_series` and
:func:`detect_anomalies`, or :mod:`revintel.forecast.service` for the metric rows.
"""

from revintel.forecast.anomalies import Anomaly, detect_anomalies
from revintel.forecast.backtest import BacktestScore
from revintel.forecast.forecasting import (
    ForecastResult,
    ForecastRow,
    InSampleRow,
    forecast_series,
    select_model,
)
from revintel.forecast.insample import InSampleBand, in_sample_band
from revintel.forecast.models import CANDIDATES, DEFAULT_CANDIDATES, SHORT_HISTORY_CANDIDATES
from revintel.forecast.series import (
    MIN_MONTHS,
    ForecastInputError,
    NotEnoughHistoryError,
    as_monthly_series,
)
from revintel.forecast.service import SERIES, forecast_metric, metric_anomalies

__all__ = [
    "CANDIDATES",
    "DEFAULT_CANDIDATES",
    "MIN_MONTHS",
    "SERIES",
    "SHORT_HISTORY_CANDIDATES",
    "Anomaly",
    "BacktestScore",
    "ForecastInputError",
    "ForecastResult",
    "ForecastRow",
    "InSampleBand",
    "InSampleRow",
    "NotEnoughHistoryError",
    "as_monthly_series",
    "detect_anomalies",
    "forecast_metric",
    "forecast_series",
    "in_sample_band",
    "metric_anomalies",
    "select_model",
]
